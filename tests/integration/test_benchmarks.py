"""Benchmarks end to end on the real stack (embedded NATS and Postgres, the session's tiny
Llama, random LoRAs made in the test): a quick run scores ten built-in questions, a person
can cancel one, a run cut short resumes, and the views rebuild equal."""

from __future__ import annotations

import asyncio

import pytest

from contracts.base import Accepted
from contracts.benchmark import CONTEXT as BENCHMARK
from contracts.benchmark import RUN, STREAM, BenchmarkCancelled, CancelBenchmark
from runtime.consumers import durable_name
from runtime.rpc import DomainError, request
from services.benchmark.scoring import SCORER_VERSION
from services.benchmark.scoring.match import as_number
from tests.support.benchmarks import finished, reached, results, start
from tests.support.flows import create_expert
from tests.support.inprocess import start_service
from tests.support.waiting import until

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def expected_scorer(question, answer: str) -> str:
    """The scorer a built-in question's answer gets: the stack's knowledge service measures
    similarity, and no run here asks a judge."""
    if not answer.strip():
        return "empty"
    if question.kind == "value":
        return "numeric" if as_number(question.reference) else "exact"
    return "similarity+overlap"


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
    assert len(scored.results) == 10 and scored.scorer_version == SCORER_VERSION
    assert {r.question_id for r in scored.results} == {q.id for q in scored.questions}
    by_id = {q.id: q for q in scored.questions}
    assert [r.scorer for r in scored.results] == [
        expected_scorer(by_id[r.question_id], r.answer) for r in scored.results
    ]
    assert all(0.0 <= r.score <= 1.0 and r.completion_tokens <= 8 for r in scored.results)


async def test_a_cancelled_run_stops_asking(nc, stack, expert):
    run_id = await start(nc, expert, suite="builtin", size="full", adapter_id="base")
    await reached(nc, run_id, lambda v: v.answered >= 1)
    await request(nc, "cmd.benchmark.cancel", CancelBenchmark(run_id=run_id), Accepted)
    run = await finished(nc, run_id)
    assert run.status == "cancelled" and run.answered < 50
    # The runner takes one event at a time, so once it has acknowledged the cancel it has let
    # go of the run: whatever it was still asking was abandoned, and nothing more was scored.
    events, _ = await stack.hosts["benchmark"].store.load(BENCHMARK, "local", RUN, run_id)
    (cancelled,) = [e for e in events if isinstance(e.event, BenchmarkCancelled)]
    js, durable = nc.jetstream(), durable_name("react", "benchmark.run")

    async def acknowledged() -> bool:
        info = await js.consumer_info(STREAM, durable)
        return info.ack_floor.stream_seq >= cancelled.seq

    await until(acknowledged, timeout=60, what="the runner to let go of the cancelled run")
    events, _ = await stack.hosts["benchmark"].store.load(BENCHMARK, "local", RUN, run_id)
    assert events[-1].seq == cancelled.seq  # nothing appended to the run after its cancel
    assert (await finished(nc, run_id)).answered == run.answered


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
    with pytest.raises(DomainError) as unknown:
        await start(nc, "nosuchexpert")
    assert unknown.value.code == "not_found"
    with pytest.raises(DomainError) as version:
        await start(nc, expert, adapter_id="nosuchversion")
    assert version.value.code == "not_found" and "nosuchversion" in version.value.detail
    with pytest.raises(DomainError) as custom:
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


async def test_the_expert_set_comes_from_held_out_document_questions_and_drives_a_diagnosis(
    api, nc
):
    from contracts.benchmark import (
        Diagnose,
        DiagnosisView,
        GenerateExpertSet,
        GetDiagnosis,
        ListQuestions,
        QuestionList,
    )
    from tests.support.api import new_expert, settled, upload
    from tests.support.pdfs import make_pdf
    from tests.support.raft_manual import PAGES  # a manual: its examples are RAFT-shaped

    expert = (await new_expert(api))["id"]
    with pytest.raises(DomainError) as none_yet:
        await request(nc, "cmd.benchmark.generate_set", GenerateExpertSet(expert_id=expert),
                      Accepted)  # fmt: skip
    assert "no ready training dataset" in none_yet.value.detail
    [doc] = (await upload(api, expert, ("manual.pdf", make_pdf(PAGES)))).json()["documents"]
    assert (await settled(api, doc["id"]))["status"] == "ready"
    sources = {"knowledge": {"questions": 40, "generator": "offline"}}
    for seed in range(11, 17):  # a seed whose held-out side has document questions
        reply = await api.post(f"/api/experts/{expert}/datasets", json={"sources": sources,
                                                                          "seed": seed})  # fmt: skip
        view = await _dataset_ready(api, reply.json()["dataset_id"])
        if view["val_examples"]:
            break
    assert view["val_examples"] > 0
    await request(nc, "cmd.benchmark.generate_set", GenerateExpertSet(expert_id=expert), Accepted)
    own = await request(nc, "qry.benchmark.questions",
                        ListQuestions(expert_id=expert, suite="expert"), QuestionList)  # fmt: skip
    assert own.questions and all(q.kind == "knowledge" and q.page for q in own.questions)
    text = " ".join(" ".join(PAGES).split())
    assert all("[1]" not in q.reference and not q.question.startswith("Sources:")
               and " ".join(q.reference.split()) in text for q in own.questions)  # fmt: skip

    queued = await request(nc, "cmd.benchmark.diagnose", Diagnose(expert_id=expert),
                           DiagnosisView)  # fmt: skip
    assert [s.setup for s in queued.steps] == ["closed_book", "retrieval"]  # no adapter yet
    for step in queued.steps:
        assert (await finished(nc, step.run_id)).status == "succeeded"
    said = await request(nc, "qry.benchmark.diagnosis", GetDiagnosis(expert_id=expert),
                         DiagnosisView)  # fmt: skip
    assert said.status == "succeeded" and said.verdict and said.advice[0].startswith("Closed")


async def _dataset_ready(api, dataset_id: str) -> dict:
    for _ in range(600):
        view = (await api.get(f"/api/datasets/{dataset_id}")).json()
        if view["status"] != "building":
            return view
        await asyncio.sleep(0.2)
    raise AssertionError(view)


async def test_a_schedule_queues_one_run_per_tick(nc, stack, expert):
    from datetime import UTC, datetime, timedelta

    from contracts.benchmark import BenchSettings, ConfigureBench

    settings = BenchSettings(schedule="* * * * *", after_training=False)
    done = await request(nc, "cmd.benchmark.configure",
                         ConfigureBench(expert_id=expert, settings=settings), Accepted)  # fmt: skip
    host = stack.hosts["benchmark"]
    await host.caught_up("BENCHMARK", done.seq)
    scheduler = host.scheduler
    now = datetime.now(UTC)
    scheduler.since = now - timedelta(minutes=1)
    queued = await scheduler.look(now)
    scheduler.since = now - timedelta(minutes=1)
    again = await scheduler.look(now)  # a second replica at the same tick
    assert queued == again  # the tick's runs are named after it: the second queues nothing new
    runs = [await finished(nc, run_id) for run_id in queued]
    (run,) = [r for r in runs if r.expert_id == expert]
    assert run.trigger == "schedule" and run.status == "succeeded"
    with pytest.raises(DomainError) as bad:
        await request(nc, "cmd.benchmark.configure",
                      ConfigureBench(expert_id=expert, settings=BenchSettings(schedule="soon")),
                      Accepted)  # fmt: skip
    assert "cron expression" in bad.value.detail
    off = BenchSettings(schedule="off")
    await request(nc, "cmd.benchmark.configure", ConfigureBench(expert_id=expert, settings=off),
                  Accepted)  # fmt: skip


async def test_a_schedule_that_never_falls_due_is_refused_and_one_already_on_the_log_stops_no_one(
    nc, stack, expert
):
    from datetime import UTC, datetime, timedelta

    from contracts.benchmark import BENCH, CONTEXT, BenchConfigured, BenchSettings, ConfigureBench

    for never in ("0 0 31 2 *", "* * * * * *"):  # February 31st; a sixth field (seconds)
        with pytest.raises(DomainError) as refused:
            await request(nc, "cmd.benchmark.configure",
                          ConfigureBench(expert_id=expert, settings=BenchSettings(schedule=never)),
                          Accepted)  # fmt: skip
        assert "five fields" in refused.value.detail and never in refused.value.detail

    # A February-31st schedule saved before the check existed lies on the log for another expert.
    broken = await create_expert(nc)
    settings = BenchSettings(schedule="0 0 31 2 *", after_training=False)
    host = stack.hosts["benchmark"]
    seq = await host.store.append(CONTEXT, "local", BENCH, broken,
                                  BenchConfigured(expert_id=broken, settings=settings),
                                  expected_seq=None)  # fmt: skip
    good = BenchSettings(schedule="* * * * *", after_training=False)
    done = await request(nc, "cmd.benchmark.configure",
                         ConfigureBench(expert_id=expert, settings=good), Accepted)  # fmt: skip
    await host.caught_up(host.stream, max(seq, done.seq))
    now = datetime.now(UTC)
    host.scheduler.since = now - timedelta(minutes=1)
    queued = await host.scheduler.look(now)  # the broken schedule is skipped, not fatal
    runs = [await finished(nc, run_id) for run_id in queued]
    assert [r.expert_id for r in runs if r.expert_id in (expert, broken)] == [expert]
    await request(nc, "cmd.benchmark.configure",
                  ConfigureBench(expert_id=expert, settings=BenchSettings(schedule="off")),
                  Accepted)  # fmt: skip


async def test_a_model_server_down_for_a_moment_is_waited_out_not_scored_as_wrong(
    nc, stack, expert
):
    from contracts.answers import ConfigureBackend
    from tests.support.scripted_llm import scripted_model

    async with scripted_model("sk-bench-1", lambda messages: "The answer is 42.") as llm:
        await request(nc, "cmd.expert.configure_backend",
                      ConfigureBackend(expert_id=expert, kind="openai", base_url=llm.url,
                                       model="scripted", api_key="sk-bench-1"),
                      Accepted)  # fmt: skip
        llm.fail_next = 3  # the first question's request and both of the client's retries: 503
        run_id = await start(nc, expert, suite="builtin", size="quick", adapter_id="base")
        run = await finished(nc, run_id)
        assert run.status == "succeeded", run.error
        scored = await results(nc, run_id)
        assert len(scored.results) == 10
        assert all(r.error is None for r in scored.results)  # the outage scored no question 0
        assert llm.fail_next == 0 and len(llm.requests) >= 13  # it was met, then waited out


async def test_a_deleted_experts_schedule_queues_nothing(nc, stack):
    from datetime import UTC, datetime, timedelta

    from contracts.benchmark import BenchSettings, ConfigureBench
    from contracts.expert import DeleteExpert

    gone = await create_expert(nc)
    every_minute = BenchSettings(schedule="* * * * *", after_training=False)
    await request(nc, "cmd.benchmark.configure",
                  ConfigureBench(expert_id=gone, settings=every_minute), Accepted)  # fmt: skip
    await request(nc, "cmd.expert.delete", DeleteExpert(expert_id=gone), Accepted)
    host = stack.hosts["benchmark"]
    await host.caught_up_with_log()
    now = datetime.now(UTC)
    host.scheduler.since = now - timedelta(minutes=1)
    queued = await host.scheduler.look(now)
    runs = [await finished(nc, run_id) for run_id in queued]
    assert gone not in {r.expert_id for r in runs}
