"""Benchmarks end to end on the real stack (embedded NATS and Postgres, the session's tiny
Llama, random LoRAs made in the test): a quick run scores ten built-in questions, a person
can cancel one, a run cut short resumes, and the views rebuild equal."""

from __future__ import annotations

import asyncio

import pytest

from contracts.base import Accepted
from contracts.benchmark import CancelBenchmark
from runtime.rpc import ServiceError, request
from tests.support.benchmarks import finished, reached, results, start
from tests.support.flows import create_expert
from tests.support.inprocess import start_service

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def expert(nc, stack):
    return await create_expert(nc)


async def test_a_quick_run_scores_ten_builtin_questions_across_the_five_domains(nc, expert):
    run_id = await start(nc, expert, suite="builtin", size="quick", adapter_id="base")
    run = await finished(nc, run_id)
    assert run.status == "succeeded", run.error
    assert (run.answered, run.total, run.adapter_id, run.progress) == (10, 10, None, 1.0)
    assert set(run.per_domain) == {"mathematics", "coding", "science", "reasoning", "creative"}
    assert 0 <= run.ci_low <= run.composite_score <= run.ci_high <= 100
    assert run.avg_response_ms > 0 and run.resources.ram_mb > 0

    scored = await results(nc, run_id)
    assert len(scored.results) == 10 and scored.scorer_version == 1
    assert {r.question_id for r in scored.results} == {q.id for q in scored.questions}
    assert all(r.scorer in ("numeric", "exact", "similarity+overlap", "empty") or r.scorer
               for r in scored.results)  # fmt: skip
    assert all(0.0 <= r.score <= 1.0 and r.completion_tokens <= 8 for r in scored.results)


async def test_a_cancelled_run_stops_asking(nc, expert):
    run_id = await start(nc, expert, suite="builtin", size="full", adapter_id="base")
    await reached(nc, run_id, lambda v: v.answered >= 1)
    await request(nc, "cmd.benchmark.cancel", CancelBenchmark(run_id=run_id), Accepted)
    run = await finished(nc, run_id)
    assert run.status == "cancelled" and run.answered < 50
    answered = run.answered
    await asyncio.sleep(1.0)
    assert (await finished(nc, run_id)).answered == answered


async def test_a_run_cut_short_by_a_stopped_service_resumes_without_asking_twice(
    nc, stack, servers, expert
):
    run_id = await start(nc, expert, suite="builtin", size="full", adapter_id="base")
    await reached(nc, run_id, lambda v: v.answered >= 2)
    await stack.hosts.pop("benchmark").stop()
    from tests.conftest import BENCH_ENV

    stack.hosts["benchmark"] = await start_service(servers.settings(**BENCH_ENV), "benchmark")
    run = await finished(nc, run_id, timeout=240)
    assert run.status == "succeeded" and run.answered == 50
    scored = await results(nc, run_id)
    assert sorted(r.question_id for r in scored.results) == sorted(q.id for q in scored.questions)


async def test_runs_need_a_known_expert_and_version_and_questions(nc, expert):
    with pytest.raises(ServiceError) as unknown:
        await start(nc, "nosuchexpert")
    assert unknown.value.code == "not_found"
    with pytest.raises(ServiceError) as version:
        await start(nc, expert, adapter_id="nosuchversion")
    assert version.value.code == "not_found" and "nosuchversion" in version.value.detail
    with pytest.raises(ServiceError) as custom:
        await start(nc, expert, suite="custom")
    assert custom.value.code == "invalid" and "no custom questions" in custom.value.detail


async def test_rebuilding_gives_the_same_benchmark_views(nc, stack, expert):
    from tests.support.views import snapshot

    await finished(nc, await start(nc, expert, adapter_id="base"))
    host = stack.hosts["benchmark"]
    await host.wait_caught_up()
    live = await snapshot(host)
    await host.rebuild()
    assert await snapshot(host) == live
