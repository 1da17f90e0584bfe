"""Queries of the benchmark service: runs, one run and its results, an expert's questions, the
dashboard's summary and the latest diagnosis."""

from __future__ import annotations

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import (
    BenchmarkList,
    BenchmarkResults,
    BenchmarkView,
    BenchSummary,
    DiagnosisView,
    GetBenchmark,
    GetDiagnosis,
    GetResults,
    GetSummary,
    ListBenchmarks,
    ListQuestions,
    QuestionList,
)
from runtime.service import Hosted
from services.benchmark import diagnosis, domain, versions, views
from services.benchmark.aggregates import BENCHES, RUNS


class BenchmarkQueries(Hosted):
    async def get(self, q: GetBenchmark) -> BenchmarkView:
        return await self.host.read_by_id(q, views.run, q.run_id, "benchmark run")

    async def list(self, q: ListBenchmarks) -> BenchmarkList:
        return BenchmarkList(runs=await self.host.read(q, lambda conn: views.runs(conn, q)))

    async def results(self, q: GetResults) -> BenchmarkResults:
        await self.host.caught_up(self.host.stream, q.after_seq)
        state, _ = await RUNS.load(self.host.store, q.tenant, q.run_id)
        if state.queued is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"benchmark run {q.run_id} not found")
        return BenchmarkResults(
            run_id=q.run_id,
            questions=list(state.queued.questions),
            results=[state.results[i] for i in sorted(state.results)],
            scorer_version=state.scorer_version,
        )

    async def questions(self, q: ListQuestions) -> QuestionList:
        bench, _ = await BENCHES.load(self.host.store, q.tenant, q.expert_id)
        suites = domain.suites(bench)
        chosen = [q.suite] if q.suite else list(suites)
        return QuestionList(questions=[x for s in chosen for x in suites[s]])

    async def summary(self, q: GetSummary) -> BenchSummary:
        bench, _ = await BENCHES.load(self.host.store, q.tenant, q.expert_id)
        active = await versions.active(self.host.nc, q.tenant, q.expert_id)
        return await self.host.read(q, lambda conn: views.summary(conn, q, bench, active))

    async def diagnosis(self, q: GetDiagnosis) -> DiagnosisView:
        rows = await self.host.read(
            q, lambda conn: views.diagnosis_runs(conn, q.tenant, q.expert_id)
        )
        return diagnosis.view_of(q.expert_id, rows)
