"""One provider job per hosted run, and none left billing after the run ends, against the
local stand-in for the OpenAI fine-tuning API: a job whose creation was never recorded (its
answer lost, then the provider out of reach, as after a crash) is found again by its key on
the work queue's retry; a run that fails after its retries, fails at once, or is cancelled
while its worker cannot reach the provider has its job cancelled there once it can; and the
cost a finished run was billed counts against the expert's budget."""

from __future__ import annotations

import asyncio
import collections

import pytest

from contracts.base import Accepted
from contracts.trainer import CancelFinetune, FinetuneSettings, GetFinetuneSettings
from runtime.eventstore import EventStore
from runtime.rpc import DomainError, request
from tests.integration.test_finetune_hosted import configure, hosted_expert
from tests.support.training import finished, reached, start

pytestmark = pytest.mark.integration


async def until(predicate, what: str, timeout: float = 90.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"not in time: {what}"
        await asyncio.sleep(0.05)


async def logged(nc, run_id: str) -> collections.Counter:
    events, _ = await EventStore(nc.jetstream()).load("trainer", "local", "run", run_id)
    return collections.Counter(rec.type.split(".")[1] for rec in events)


async def until_logged(nc, run_id: str, kind: str, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (await logged(nc, run_id))[kind]:
        assert asyncio.get_running_loop().time() < deadline, f"no {kind} for {run_id}"
        await asyncio.sleep(0.05)


def goes_dark(api):
    """Right after the job is made: its answer is lost and the provider stays out of reach,
    so the worker ends its attempt knowing nothing of the job (what a crash leaves)."""
    api.lose_created = 1

    def on_create(_job: dict) -> None:
        api.down = True

    return on_create


async def test_an_outage_and_a_lost_creation_still_make_one_job(services, nc):
    async with hosted_expert(nc, "Outage keeper", steps=2) as (expert, data, api):
        api.down = True  # out of reach from the first request
        accepted = await start(nc, expert, data, config=None, confirm=True)
        run_id = accepted.run_id
        await reached(nc, run_id, lambda v: v.attempt >= 2)  # the work queue tried again
        assert api.jobs == {} and api.uploads == {}

        api.on_create = goes_dark(api)
        api.down = False
        await until(lambda: api.jobs and api.refused_while_down > 8, "the job made, then dark")
        await reached(nc, run_id, lambda v: v.attempt >= 3)  # the attempt gave up, retried
        api.on_create = None
        api.down = False
        view = await finished(nc, run_id)

        assert view.status == "succeeded", view.error
        assert len(api.jobs) == 1 and len(api.created) == 1  # one job, paid for once
        job = api.job()
        assert job["metadata"] == {"simtune_job": f"simtune-{run_id}"}
        assert view.provider_model == job["fine_tuned_model"]
        kinds = await logged(nc, run_id)
        assert kinds["HostedJobRequested"] == 1 and kinds["HostedJobCreated"] == 1


async def test_a_run_that_fails_after_its_retries_has_its_job_cancelled(services, nc):
    async with hosted_expert(nc, "Abandoned keeper", pause=True) as (expert, data, api):
        api.on_create = goes_dark(api)  # and stays dark until every attempt has failed
        accepted = await start(nc, expert, data, config=None, confirm=True)
        view = await finished(nc, accepted.run_id, timeout=180)
        assert view.status == "failed" and "tried" in view.error
        (job,) = api.jobs.values()
        assert job["status"] == "validating_files"  # still going at the provider: billing

        api.down = False  # the provider is back: the ended run's job is found and stopped
        await until(lambda: job["status"] == "cancelled", "the job cancelled")
        assert len(api.jobs) == 1 and api.cancels == [job["id"]]


async def test_a_run_the_provider_refuses_mid_job_has_its_job_cancelled(services, nc):
    async with hosted_expert(nc, "Refused keeper", pause=True) as (expert, data, api):
        accepted = await start(nc, expert, data, config=None, confirm=True)
        await until_logged(nc, accepted.run_id, "HostedJobCreated")
        api.drop_status, api.drop_connections = 400, 1  # the next poll is refused outright
        view = await finished(nc, accepted.run_id)
        assert view.status == "failed" and "overloaded" in view.error
        job = api.job()
        await until(lambda: job["status"] == "cancelled", "the job cancelled")
        assert len(api.jobs) == 1


async def test_a_cancel_while_the_provider_is_out_of_reach_stops_its_job_later(services, nc):
    async with hosted_expert(nc, "Cancelling keeper", pause=True) as (expert, data, api):
        accepted = await start(nc, expert, data, config=None, confirm=True)
        await until_logged(nc, accepted.run_id, "HostedJobCreated")
        job = api.job()
        api.down = True
        cancel = CancelFinetune(run_id=accepted.run_id)
        await request(nc, "cmd.trainer.cancel", cancel, Accepted)
        view = await finished(nc, accepted.run_id, timeout=30)
        assert view.status == "cancelled"
        assert job["status"] == "validating_files"  # nobody could tell the provider yet

        api.down = False
        await until(lambda: job["status"] == "cancelled", "the job cancelled")
        assert len(api.jobs) == 1 and len(api.created) == 1


async def settings_of(nc, expert: str) -> FinetuneSettings:
    query = GetFinetuneSettings(expert_id=expert)
    return await request(nc, "qry.trainer.settings", query, FinetuneSettings)


async def test_what_a_run_was_billed_counts_against_the_budget(services, nc):
    async with hosted_expert(
        nc, "Billed keeper", budget=1000.0, steps=1, billed_tokens_per_byte=12.0
    ) as (expert, data, api):
        first = await start(nc, expert, data, config=None, confirm=True)
        estimate = first.estimate.cost_usd
        view = await finished(nc, first.run_id)
        assert view.status == "succeeded", view.error
        assert view.cost_usd > 2 * estimate  # billed far past its estimate

        deadline = asyncio.get_running_loop().time() + 60
        while (await settings_of(nc, expert)).spent_usd != pytest.approx(view.cost_usd):
            assert asyncio.get_running_loop().time() < deadline, "the spend was not settled"
            await asyncio.sleep(0.1)

        # the estimates alone (this run's and the next's) fit; what was billed does not
        await configure(nc, expert, api.url, budget=round(2.5 * estimate, 4))
        with pytest.raises(DomainError) as refused:
            await start(nc, expert, data, config=None, confirm=True)
        assert refused.value.code == "over_budget"
        assert f"${view.cost_usd:.2f} already committed" in refused.value.detail
        assert len(api.created) == 1
