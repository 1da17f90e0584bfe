"""What follows benchmarks on its own, on the real stack: a fine-tune's adapter is measured once
however often its registration is delivered, "promote only if better" activates the better
adapter and holds back the worse, and a run of the active adapter that scores lower raises
the regression alert.

Scores on a random tiny model are noise, so the questions here are written so that one
version is right by construction: each reference is what that version answers."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from contracts.benchmark import CONTEXT as BENCHMARK
from contracts.benchmark import (
    RUN,
    STREAM,
    BenchmarkCompleted,
    BenchmarkList,
    BenchSummary,
    GetSummary,
    ListBenchmarks,
)
from contracts.registry import STREAM as REGISTRY
from contracts.registry import ActiveAdapter, GetActiveAdapter
from runtime.consumers import durable_name
from runtime.eventstore import RecordedEvent
from runtime.rpc import request
from services.benchmark.commands import BenchmarkCommands
from services.benchmark.examiner import Examiner
from services.benchmark.reactors.adapter_registered import AfterTraining
from tests.support.adapters import lora_folder
from tests.support.benchmarks import (
    add_questions,
    finished,
    questions_answered_by,
    start,
    swap_questions,
)
from tests.support.flows import create_expert
from tests.support.versions import append_trained, listed, new_versions, trained
from tests.support.waiting import until

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def summary(nc, expert_id: str) -> BenchSummary:
    return await request(nc, "qry.benchmark.summary", GetSummary(expert_id=expert_id),
                         BenchSummary)  # fmt: skip


async def alert(nc, expert_id: str, kind: str, timeout: float = 60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [a for a in (await summary(nc, expert_id)).alerts if a.kind == kind]
        if found:
            return found[0]
        assert asyncio.get_running_loop().time() < deadline, f"no {kind} alert"
        await asyncio.sleep(0.2)


async def active(nc, expert_id: str) -> str | None:
    query = GetActiveAdapter(expert_id=expert_id)
    return (await request(nc, "qry.registry.active", query, ActiveAdapter)).adapter_id


async def active_now(nc, expert_id: str) -> str | None:
    """The active adapter as the registry's log stands now, not a view that may lag."""
    last = (await nc.jetstream().stream_info(REGISTRY)).state.last_seq
    query = GetActiveAdapter(expert_id=expert_id, after_seq=last)
    return (await request(nc, "qry.registry.active", query, ActiveAdapter)).adapter_id


async def decided(nc, host, run_id: str) -> None:
    """Wait until the deciding reactor has acknowledged the run's end."""
    events, _ = await host.store.load(BENCHMARK, "local", RUN, run_id)
    (ended,) = [rec for rec in events if isinstance(rec.event, BenchmarkCompleted)]
    js, durable = nc.jetstream(), durable_name("react", "benchmark.decide")

    async def acknowledged() -> bool:
        return (await js.consumer_info(STREAM, durable)).ack_floor.stream_seq >= ended.seq

    await until(acknowledged, what=f"the decision on run {run_id}")


async def runs_of(nc, expert_id: str, adapter_id: str) -> list:
    query = ListBenchmarks(expert_id=expert_id, adapter_id=adapter_id)
    return (await request(nc, "qry.benchmark.runs", query, BenchmarkList)).runs


async def test_promotion_activates_the_better_adapter_and_holds_back_the_worse(
    nc, stack, servers, tmp_path
):
    expert = await create_expert(nc)
    good, bad = await new_versions(nc, servers.base_model, tmp_path, expert, seeds=(21, 22))
    await add_questions(nc, expert, await questions_answered_by(nc, expert, good))
    host = stack.hosts["benchmark"]
    handlers = BenchmarkCommands(host, Examiner(host))
    base = await finished(nc, await start(nc, expert, suite="custom", adapter_id="base"))

    promoted, _ = await handlers.queue("local", expert, "custom", "quick", good,
                                       "after_training", seed="good", candidate=True)  # fmt: skip
    good_run = await finished(nc, promoted)
    assert good_run.composite_score > base.composite_score + 2
    said = await alert(nc, expert, "promoted")
    assert said.adapter_id == good and "activated" in said.sentence
    assert await active(nc, expert) == good

    held, _ = await handlers.queue("local", expert, "custom", "quick", bad, "after_training",
                                   seed="bad", candidate=True)  # fmt: skip
    await finished(nc, held)
    said = await alert(nc, expert, "held_back")
    assert said.adapter_id == bad and "held back" in said.sentence
    assert f"version {good}" in said.sentence and "it must win by 2" in said.sentence
    # The deciding reactor is done with the held run's result once it has acknowledged it:
    # whatever it was to activate is on the registry's log by then.
    await decided(nc, host, held)
    assert await active_now(nc, expert) == good

    table = {row.label: row for row in (await summary(nc, expert)).comparison}
    assert table["active"].adapter_id == good and table["active"].run.id == promoted
    assert table["base model"].run.id == base.id


async def test_a_lower_run_of_the_active_adapter_raises_the_regression_alert(
    nc, stack, servers, tmp_path
):
    expert = await create_expert(nc)
    good, other = await new_versions(nc, servers.base_model, tmp_path, expert, seeds=(23, 24))
    from tests.support.versions import activate, deployed

    await deployed(stack, await activate(nc, expert, good))
    first = await questions_answered_by(nc, expert, good)
    await add_questions(nc, expert, first)
    high = await finished(nc, await start(nc, expert, suite="custom"))
    assert high.adapter_id == good

    await swap_questions(nc, expert, first, other, "m")
    low = await finished(nc, await start(nc, expert, suite="custom"))
    assert low.composite_score < high.composite_score - 2
    said = await alert(nc, expert, "regression")
    assert said.adapter_id == good and said.run_id == low.id
    assert "points lower than its run before" in said.sentence


async def test_a_fine_tunes_adapter_is_measured_once_however_often_it_is_delivered(
    nc, stack, servers, tmp_path
):
    host = stack.hosts["benchmark"]
    normal = host.settings
    host.settings = msgspec.structs.replace(normal, bench_after_training=True)
    try:
        expert = await create_expert(nc)
        ev = await trained(nc, expert, lora_folder(servers.base_model, tmp_path / "t", seed=25))
        await append_trained(stack.hosts["trainer"], ev)
        deadline = asyncio.get_running_loop().time() + 60
        while not (runs := await runs_of(nc, expert, ev.adapter_id)):
            assert asyncio.get_running_loop().time() < deadline, "no run after training"
            await asyncio.sleep(0.2)
        assert [r.trigger for r in runs] == ["after_training"]

        events, _ = await host.store.load("registry", "local", "versions", expert)
        registered: RecordedEvent = events[0]
        again = AfterTraining(BenchmarkCommands(host, Examiner(host)))
        await again.on_registry(registered, lambda: None)  # delivered once more
        await again.on_registry(registered, lambda: None)
        await host.caught_up_with_log()  # the view shows whatever those deliveries queued
        assert len(await runs_of(nc, expert, ev.adapter_id)) == 1
        baseline = await runs_of(nc, expert, "base")
        assert [r.trigger for r in baseline] == ["after_training"]  # what it must beat
        await finished(nc, runs[0].id)
        assert (await listed(nc, expert)).adapters[0].id == ev.adapter_id
    finally:
        host.settings = normal


async def test_a_persons_rollback_stands_when_a_promotion_is_delivered_again(
    nc, stack, servers, tmp_path
):
    from contracts.base import Accepted
    from contracts.benchmark import CONTEXT, RUN, BenchmarkCompleted
    from contracts.registry import STREAM as REGISTRY
    from contracts.registry import RollbackAdapter
    from services.benchmark.reactors.run_completed import Decisions

    expert = await create_expert(nc)
    (good,) = await new_versions(nc, servers.base_model, tmp_path, expert, seeds=(25,))
    await add_questions(nc, expert, await questions_answered_by(nc, expert, good))
    host = stack.hosts["benchmark"]
    handlers = BenchmarkCommands(host, Examiner(host))
    await finished(nc, await start(nc, expert, suite="custom", adapter_id="base"))
    run_id, _ = await handlers.queue("local", expert, "custom", "quick", good, "after_training",
                                     seed="again", candidate=True)  # fmt: skip
    await finished(nc, run_id)
    await alert(nc, expert, "promoted")
    assert await active(nc, expert) == good

    async def answering_now():  # as the registry's log stands, not a view that may lag
        last = (await nc.jetstream().stream_info(REGISTRY)).state.last_seq
        query = GetActiveAdapter(expert_id=expert, after_seq=last)
        return (await request(nc, "qry.registry.active", query, ActiveAdapter)).adapter_id

    back = RollbackAdapter(expert_id=expert, to_adapter_id="base", reason="I prefer the base")
    await request(nc, "cmd.registry.rollback", back, Accepted)  # a person's choice
    assert await answering_now() is None

    events, _ = await host.store.load(CONTEXT, "local", RUN, run_id)
    (completed,) = [rec for rec in events if isinstance(rec.event, BenchmarkCompleted)]
    await Decisions(host).on_run(completed, None)  # the decision delivered again
    assert await answering_now() is None  # the person's choice stands
