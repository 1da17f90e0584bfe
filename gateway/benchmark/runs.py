"""What the benchmark context adds to its queries and commands, for its API, its pages and
the registry's compare page: an expert's runs, summary, questions and diagnosis (each a 404
for an expert that does not exist, rather than an empty answer), and a queued run as it is
once queued."""

from __future__ import annotations

from contracts.benchmark import (
    BenchmarkView,
    BenchSummary,
    DiagnosisView,
    GetBenchmark,
    GetDiagnosis,
    GetSummary,
    ListBenchmarks,
    ListQuestions,
    Question,
    StartBenchmark,
    Suite,
)
from contracts.expert import GetExpert
from gateway.backend import Backend

RESCORE_TIMEOUT_S = 600.0  # every answer of the run scored again
GENERATE_TIMEOUT_S = 60.0  # the expert's set written from its newest dataset


async def list_benchmarks(backend: Backend, query: ListBenchmarks) -> list[BenchmarkView]:
    """Newest first; a 404 for an expert that does not exist."""
    await backend.ask(GetExpert(expert_id=query.expert_id))
    return (await backend.ask(query)).runs


async def summary(backend: Backend, query: GetSummary) -> BenchSummary:
    await backend.ask(GetExpert(expert_id=query.expert_id))
    return await backend.ask(query)


async def questions(backend: Backend, expert_id: str, suite: Suite | None = None) -> list[Question]:
    await backend.ask(GetExpert(expert_id=expert_id))
    return (await backend.ask(ListQuestions(expert_id=expert_id, suite=suite))).questions


async def diagnosis(backend: Backend, expert_id: str) -> DiagnosisView:
    await backend.ask(GetExpert(expert_id=expert_id))
    return await backend.ask(GetDiagnosis(expert_id=expert_id))


async def start(backend: Backend, cmd: StartBenchmark) -> BenchmarkView:
    """The run as it is once queued."""
    accepted = await backend.send(cmd)
    return await backend.ask(GetBenchmark(run_id=accepted.run_id, after_seq=accepted.seq))
