"""The registry's reactions under provoked faults: a trained adapter becomes exactly one
version, one whose files are gone is registered invalid without holding up the next, and a
registration cut short by a stopped registry is finished once by the next one."""

from __future__ import annotations

import asyncio
import json

import pytest

from contracts.registry import AuditTrail, GetAudit
from contracts.trainer import STREAM as TRAINER
from contracts.trainer import AdapterTrained
from runtime.consumers import durable_name
from runtime.rpc import request
from tests.support import training
from tests.support.adapters import lora_folder
from tests.support.flows import create_expert
from tests.support.inprocess import start_service
from tests.support.training import dataset, finished, start
from tests.support.versions import activate, append_trained, deployed, greedy, listed, trained
from tests.support.waiting import until

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def registered(nc, expert_id: str, timeout: float = 60.0):
    """The expert's versions once there is at least one."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (view := await listed(nc, expert_id)).adapters:
        assert asyncio.get_running_loop().time() < deadline, "no version was registered"
        await asyncio.sleep(0.1)
    return view


async def audit(nc, expert_id: str):
    trail = await request(nc, "qry.registry.audit", GetAudit(expert_id=expert_id), AuditTrail)
    return trail.entries


async def test_a_trained_adapter_becomes_one_version_that_answers(nc, stack):
    expert = await create_expert(nc)
    run = await finished(nc, (await start(nc, expert, await dataset(nc, expert))).run_id)
    assert run.status == "succeeded", run.error
    view = await registered(nc, expert)
    (version,) = view.adapters
    assert version.id == run.adapter_id and version.run_id == run.id
    assert version.source == "trained" and version.valid and not version.is_active
    assert version.traces_used == run.estimate.train_examples
    assert version.metrics.train_loss == run.metrics.train_loss
    assert version.size_bytes == sum(f.size for f in run.files)

    await deployed(stack, await activate(nc, expert, version.id))
    assert (await greedy(nc, expert)).adapter_id == version.id
    folder = stack.settings.home / "lora-adapters" / version.id
    await until((folder / "manifest.json").is_file, what="the version's manifest on disk")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["runId"] == run.id and manifest["tracesUsed"] == version.traces_used
    assert [e.action for e in await audit(nc, expert)] == ["activate", "register"]


async def test_a_trained_adapter_whose_files_are_gone_is_registered_invalid_alone(
    nc, stack, servers, tmp_path
):
    expert = await create_expert(nc)
    host = stack.hosts["trainer"]
    await append_trained(host, await trained(nc, expert))  # its files never reached the store
    good = await trained(nc, expert, lora_folder(servers.base_model, tmp_path / "good", seed=7))
    await append_trained(host, good)
    deadline = asyncio.get_running_loop().time() + 60
    while len((view := await listed(nc, expert)).adapters) < 2:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)
    by_id = {a.id: a for a in view.adapters}
    assert by_id[good.adapter_id].valid
    (broken,) = [a for a in view.adapters if a.id != good.adapter_id]
    assert not broken.valid
    assert broken.problems == ["adapter_model.safetensors is missing from the adapter store"]


async def test_a_registration_cut_short_by_a_stopped_registry_is_finished_once(
    nc, stack, servers, tmp_path, monkeypatch
):
    import services.registry.reactors.adapter_trained as registering

    expert = await create_expert(nc)
    # nothing of an earlier test still on its way to the registry: the stopped worker below
    # must be working on this test's adapter, not on a backlog
    await training.end_all_runs(nc)
    await stack.hosts["registry"].wait_caught_up()
    await stack.hosts.pop("registry").stop()
    started, materialize = asyncio.Event(), registering.materialize

    async def stuck(*args, **kwargs):
        started.set()
        await asyncio.Event().wait()  # the worker dies mid-work

    try:
        monkeypatch.setattr(registering, "materialize", stuck)
        first = await start_service(servers.settings(), "registry")
        try:
            ev = await trained(nc, expert, lora_folder(servers.base_model, tmp_path / "a", seed=8))
            await append_trained(stack.hosts["trainer"], ev)
            await asyncio.wait_for(started.wait(), 30)
        finally:
            await asyncio.wait_for(first.stop(), 60)
    finally:  # the session's registry comes back whatever happened, for the tests after this
        monkeypatch.setattr(registering, "materialize", materialize)
        stack.hosts["registry"] = await start_service(servers.settings(), "registry")

    view = await registered(nc, expert)
    assert [a.id for a in view.adapters] == [ev.adapter_id] and view.adapters[0].valid
    # Once the registry has acknowledged the trained event, nothing delivers it again: a
    # second registration would have been appended before that.
    events, _ = await stack.hosts["trainer"].store.load("trainer", "local", "run", ev.run_id)
    (trained_at,) = [rec.seq for rec in events if isinstance(rec.event, AdapterTrained)]
    js, durable = nc.jetstream(), durable_name("react", "registry.register")

    async def acknowledged() -> bool:
        return (await js.consumer_info(TRAINER, durable)).ack_floor.stream_seq >= trained_at

    await until(acknowledged, what="the registry to acknowledge the trained event")
    await stack.hosts["registry"].wait_caught_up()
    assert [e.action for e in await audit(nc, expert)] == ["register"]
