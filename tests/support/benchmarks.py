"""Driving the benchmark service over NATS in tests: start a run, wait for its end, read its
results, and write custom questions whose reference is what a given version answers (so that
version scores high and others low, which makes promotion testable on a random tiny model)."""

from __future__ import annotations

import asyncio

import msgspec

from contracts.answers import AnswerReply, Ask
from contracts.base import Accepted
from contracts.benchmark import (
    AddQuestions,
    BenchAccepted,
    BenchmarkList,
    BenchmarkResults,
    BenchmarkView,
    CancelBenchmark,
    GetBenchmark,
    GetResults,
    ListBenchmarks,
    Question,
    RemoveQuestion,
    StartBenchmark,
)
from runtime.rpc import DomainError, request

ENDED = ("succeeded", "failed", "cancelled")


async def start(nc, expert_id: str, **fields) -> str:
    cmd = StartBenchmark(expert_id=expert_id, **fields)
    return (await request(nc, "cmd.benchmark.start", cmd, BenchAccepted)).run_id


async def view(nc, run_id: str, tenant: str = "local") -> BenchmarkView | None:
    try:
        query = GetBenchmark(tenant=tenant, run_id=run_id)
        return await request(nc, "qry.benchmark.run", query, BenchmarkView)
    except DomainError as exc:
        if exc.code == "not_found":
            return None  # queued a moment ago, not projected yet
        raise


async def reached(nc, run_id: str, predicate, timeout: float = 120.0) -> BenchmarkView:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        seen = await view(nc, run_id)
        if seen is not None and predicate(seen):
            return seen
        assert asyncio.get_running_loop().time() < deadline, f"run {run_id}: {seen}"
        await asyncio.sleep(0.1)


async def finished(nc, run_id: str, timeout: float = 120.0) -> BenchmarkView:
    return await reached(nc, run_id, lambda v: v.status in ENDED, timeout)


async def results(nc, run_id: str) -> BenchmarkResults:
    return await request(nc, "qry.benchmark.results", GetResults(run_id=run_id), BenchmarkResults)


async def answer_of(nc, expert_id: str, question: str, adapter: str) -> str:
    ask = Ask(expert_id=expert_id, question=question, mode="closed", max_tokens=8,
              temperature=0.0, adapter=adapter, purpose="benchmark")  # fmt: skip
    return (await request(nc, "cmd.expert.ask", ask, AnswerReply, timeout=60.0)).answer


async def questions_answered_by(nc, expert_id: str, adapter: str, n: int = 4) -> list[Question]:
    """`n` custom questions whose reference answers are what `adapter` says to them."""
    asked = [f"Question {k}: what does the keeper log?" for k in range(n)]
    return [
        Question(
            id=f"q{k}",
            domain=("log", "lamp")[k % 2],
            question=text,
            kind="text",
            reference=await answer_of(nc, expert_id, text, adapter) or "nothing",
        )  # fmt: skip
        for k, text in enumerate(asked)
    ]


async def add_questions(nc, expert_id: str, questions: list[Question]) -> Accepted:
    cmd = AddQuestions(expert_id=expert_id, questions=questions)
    return await request(nc, "cmd.benchmark.add_questions", cmd, Accepted)


async def swap_questions(
    nc, expert_id: str, old: list[Question], adapter: str, prefix: str
) -> list[Question]:
    """Remove the custom questions `old` and add instead those `adapter` answers, their ids
    prefixed with `prefix` (new questions, not edits): the custom suite now favours
    `adapter`. The questions added."""
    for q in old:
        remove = RemoveQuestion(expert_id=expert_id, question_id=q.id)
        await request(nc, "cmd.benchmark.remove_question", remove, Accepted)
    new = [
        msgspec.structs.replace(q, id=f"{prefix}{q.id}")
        for q in await questions_answered_by(nc, expert_id, adapter)
    ]
    await add_questions(nc, expert_id, new)
    return new


async def end_all_benchmarks(nc, experts, tenants=("local",), timeout: float = 180.0) -> None:
    """Cancel every run of these experts still queued or running, and wait until each has
    ended (so a view can be compared with its rebuild while nothing moves)."""
    deadline = asyncio.get_running_loop().time() + timeout
    for tenant in tenants:
        for expert_id in experts:
            query = ListBenchmarks(tenant=tenant, expert_id=expert_id, limit=5000)
            runs = (await request(nc, "qry.benchmark.runs", query, BenchmarkList)).runs
            for run in (r for r in runs if r.status not in ENDED):
                try:
                    cancel = CancelBenchmark(tenant=tenant, run_id=run.id)
                    await request(nc, "cmd.benchmark.cancel", cancel, Accepted)
                except DomainError:
                    pass  # it ended meanwhile
                while (await view(nc, run.id, tenant)).status not in ENDED:
                    assert asyncio.get_running_loop().time() < deadline, run.id
                    await asyncio.sleep(0.1)
