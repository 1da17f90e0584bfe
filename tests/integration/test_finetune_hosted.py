"""Hosted runs through the trainer service, against a local stand-in for the OpenAI
fine-tuning API: the cost is shown and must be confirmed, a budget refuses a run that would
pass it, a job is followed through a lost connection to the provider's model id, and a job
the provider fails fails the run with the provider's words."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import msgspec
import pytest

from contracts.base import Accepted
from contracts.trainer import (
    ConfigureFinetune,
    FinetuneSettings,
    GetFinetuneSettings,
    HostedInput,
)
from runtime.rpc import DomainError, request
from tests.support.fake_finetune_api import KEY, fake_finetune_api
from tests.support.flows import create_expert
from tests.support.training import TINY, dataset, finished, start

pytestmark = pytest.mark.integration
HOSTED = msgspec.structs.replace(TINY, backend="openai", epochs=2)


async def configure(nc, expert: str, url: str, *, budget=None, key=KEY) -> FinetuneSettings:
    hosted = HostedInput(
        base_url=url, model="gpt-mini", price_per_million_tokens_usd=2000.0, api_key=key
    )
    cmd = ConfigureFinetune(expert_id=expert, config=HOSTED, hosted=hosted, budget_usd=budget)
    accepted = await request(nc, "cmd.trainer.configure", cmd, Accepted)
    query = GetFinetuneSettings(expert_id=expert, after_seq=accepted.seq)
    return await request(nc, "qry.trainer.settings", query, FinetuneSettings)


@asynccontextmanager
async def hosted_expert(nc, name: str, *, budget=None, key=KEY, **fake):
    """A new expert with a ready dataset, set to fine-tune (`budget`, `key`) at a fake
    provider started with the options `fake`: yields (expert id, dataset id, the fake)."""
    expert = await create_expert(nc, name)
    data = await dataset(nc, expert)
    async with fake_finetune_api(**fake) as api:
        await configure(nc, expert, api.url, budget=budget, key=key)
        yield expert, data, api


async def test_a_hosted_run_needs_its_cost_confirmed_then_records_the_providers_model(services, nc):
    expert = await create_expert(nc, "Hosted keeper")
    data = await dataset(nc, expert)
    async with fake_finetune_api(steps=3) as api:
        settings = await configure(nc, expert, api.url)
        assert settings.hosted.key_set and settings.hosted.model == "gpt-mini"
        assert KEY not in msgspec.json.encode(settings).decode()  # the key never comes back

        with pytest.raises(DomainError) as unconfirmed:
            await start(nc, expert, data, config=None)
        assert unconfirmed.value.code == "confirmation_required"
        assert "estimated at $" in unconfirmed.value.detail and "training tokens" in (
            unconfirmed.value.detail
        )
        assert api.uploads == {}  # nothing was sent before the person agreed

        api.drop_connections = 2  # the connection is lost twice while the job runs
        accepted = await start(nc, expert, data, config=None, confirm=True)
        view = await finished(nc, accepted.run_id)
        assert view.status == "succeeded", view.error
        assert view.provider_model.startswith("ft:gpt-mini:simtune:")
        assert view.backend == "openai" and view.files == []
        assert view.cost_usd and view.cost_usd > 0
        created = api.created[-1]
        assert created["model"] == "gpt-mini" and created["hyperparameters"]["n_epochs"] == 2
        sent = next(iter(api.uploads.values())).content.decode()
        assert '"messages"' in sent and "harbour light" in sent
        assert len(api.created) == 1  # the lost connections did not make a second job

        # what the run cost replaces its estimate in the spend once the run has ended
        assert view.cost_usd < accepted.estimate.cost_usd  # the estimate errs high
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            after = await request(
                nc, "qry.trainer.settings", GetFinetuneSettings(expert_id=expert), FinetuneSettings
            )
            if after.spent_usd == pytest.approx(view.cost_usd):
                break
            assert after.spent_usd == pytest.approx(accepted.estimate.cost_usd)  # not yet
            assert asyncio.get_running_loop().time() < deadline, "the spend was not settled"
            await asyncio.sleep(0.1)


async def test_a_budget_refuses_a_run_that_would_pass_it_with_the_figures(services, nc):
    async with hosted_expert(nc, "Thrifty keeper", budget=0.01) as (expert, data, api):
        with pytest.raises(DomainError) as refused:
            await start(nc, expert, data, config=None, confirm=True)
        assert refused.value.code == "over_budget" and refused.value.status == 422
        assert "budget of $0.01" in refused.value.detail and "estimated at $" in (
            refused.value.detail
        )
        assert api.created == []


async def test_a_job_the_provider_fails_fails_the_run_with_its_words(services, nc):
    async with hosted_expert(nc, "Unlucky keeper", fail_job=True) as (expert, data, api):
        accepted = await start(nc, expert, data, config=None, confirm=True)
        view = await finished(nc, accepted.run_id)
    assert view.status == "failed"
    assert "Training file has invalid format" in view.error and KEY not in view.error


async def test_a_wrong_key_fails_the_run_saying_so_without_the_key(services, nc):
    async with hosted_expert(nc, "Locked keeper", key="sk-wrong-key") as (expert, data, api):
        accepted = await start(nc, expert, data, config=None, confirm=True)
        view = await finished(nc, accepted.run_id)
    assert view.status == "failed" and "API key" in view.error
    assert "sk-wrong-key" not in view.error


async def test_a_key_is_never_sent_to_a_server_it_was_not_given_for(services, nc):
    expert = await create_expert(nc, "Moved keeper")
    data = await dataset(nc, expert)
    async with fake_finetune_api(steps=2) as first, fake_finetune_api(require_key=None) as other:
        assert (await configure(nc, expert, first.url)).hosted.key_set
        again = await configure(nc, expert, first.url, key=None)  # the same server: kept
        assert again.hosted.key_set

        moved = await configure(nc, expert, other.url, key=None)  # a new address, no new key
        assert not moved.hosted.key_set  # the settings say no key is stored for it

        with pytest.raises(DomainError) as refused:  # no key for it: nothing is sent there
            await start(nc, expert, data, config=None, confirm=True)
        assert "API key" in refused.value.detail
        assert KEY not in other.keys_seen and other.requests == []


async def test_a_budget_without_a_price_holds_a_hosted_run_back(services, nc):
    expert = await create_expert(nc, "Unpriced keeper")
    data = await dataset(nc, expert)
    async with fake_finetune_api() as api:
        free = HostedInput(base_url=api.url, model="gpt-mini", api_key=KEY)  # no price given
        cmd = ConfigureFinetune(expert_id=expert, config=HOSTED, hosted=free, budget_usd=5.0)
        await request(nc, "cmd.trainer.configure", cmd, Accepted)
        with pytest.raises(DomainError) as refused:
            await start(nc, expert, data, config=None, confirm=True)
        assert refused.value.code == "over_budget" and "price per million" in refused.value.detail
        assert api.created == [] and api.uploads == {}  # nothing was sent, nothing billed
