"""Commands and queries of the benchmark service: queue, cancel and rescore runs, an expert's
settings and question sets, and the reads behind the dashboard."""

from __future__ import annotations

import hashlib
import uuid

from contracts.base import Accepted, DomainError, ErrorCode
from contracts.benchmark import (
    BASE,
    SIZES,
    AddQuestions,
    BenchAccepted,
    BenchConfigured,
    BenchmarkList,
    BenchmarkQueued,
    BenchmarkResults,
    BenchmarkView,
    BenchSummary,
    CancelBenchmark,
    ConfigureBench,
    GenerateExpertSet,
    GetBenchmark,
    GetResults,
    GetSummary,
    ListBenchmarks,
    ListQuestions,
    Question,
    QuestionList,
    RemoveQuestion,
    StartBenchmark,
)
from contracts.registry import GetActiveAdapter, GetAdapter
from runtime.experts import require_expert
from runtime.rpc import ask
from runtime.service import ServiceHost
from services.benchmark import bank, domain, expert_set, views
from services.benchmark.aggregates import BENCHES, RUNS

STREAM = "BENCHMARK"
RACE_RETRIES = 20


class BenchmarkHandlers:
    def __init__(self, host: ServiceHost) -> None:
        self.host = host

    # ---- runs -------------------------------------------------------------------------------

    async def start(self, cmd: StartBenchmark) -> BenchAccepted:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        adapter = await self.adapter_for(cmd.tenant, cmd.expert_id, cmd.adapter_id)
        run_id, seq = await self.queue(
            cmd.tenant, cmd.expert_id, cmd.suite, cmd.size, adapter, cmd.trigger,
            seed=uuid.uuid4().hex,
        )  # fmt: skip
        return BenchAccepted(run_id=run_id, seq=seq)

    async def queue(
        self, tenant: str, expert_id: str, suite: str, size: str, adapter: str | None,
        trigger: str, *, seed: str, candidate: bool = False, **fields,
    ) -> tuple[str, int]:  # fmt: skip
        """Queue a run; the same `seed` queues one run however often it is asked."""
        bench, _ = await BENCHES.load(self.host.store, tenant, expert_id)
        questions = self.questions(bench, suite, size)
        run_id = hashlib.sha256(f"bench:{tenant}:{expert_id}:{seed}".encode()).hexdigest()[:16]
        queued = BenchmarkQueued(
            run_id=run_id, expert_id=expert_id, suite=suite, size=size, adapter_id=adapter,
            questions=questions, trigger=trigger, candidate=candidate,
            judge=bench.settings.judge, **fields,
        )  # fmt: skip
        outcome = await RUNS.execute(
            self.host.store, tenant, run_id, lambda s: queued if s.queued is None else None,
            event_id=f"queue-{run_id}",
        )  # fmt: skip
        return run_id, outcome.seq

    def questions(self, bench: domain.BenchState, suite: str, size: str) -> list[Question]:
        n = SIZES[size]
        if suite == "builtin":
            return bank.pick(bank.builtin(), n, seed=0)
        if suite == "expert":
            pool = list(bench.expert_set)
            if not pool:
                raise DomainError(
                    ErrorCode.INVALID,
                    "this expert has no questions from its documents yet: generate its"
                    " question set first (it is written from a ready training dataset)",
                )
        else:
            pool = list(bench.custom.values())
            if not pool:
                raise DomainError(
                    ErrorCode.INVALID,
                    "this expert has no custom questions yet: add some, or import JSONL",
                )
        return bank.pick(pool, min(n, len(pool)), seed=0)

    async def adapter_for(self, tenant: str, expert_id: str, chosen: str | None) -> str | None:
        """The version a run measures: the active one (None asked), none (`base`), or the
        one chosen, which must be a valid version of this expert."""
        if chosen == BASE:
            return None
        try:
            if chosen is None:
                query = GetActiveAdapter(tenant=tenant, expert_id=expert_id)
                active = await ask(self.host.nc, query)
                return active.adapter_id
            query = GetAdapter(tenant=tenant, adapter_id=chosen)
            version = await ask(self.host.nc, query)
        except DomainError as exc:
            if exc.code == ErrorCode.NOT_FOUND:
                raise DomainError(ErrorCode.NOT_FOUND, f"version {chosen} not found") from exc
            raise
        if version.expert_id != expert_id:
            raise DomainError(ErrorCode.NOT_FOUND, f"version {chosen} is not this expert's")
        if not version.valid:
            raise DomainError(ErrorCode.CONFLICT, f"version {chosen} is invalid: it cannot answer")
        return chosen

    async def cancel(self, cmd: CancelBenchmark) -> Accepted:
        """A run records an answer every second or so: a cancel that lost the race to one is
        decided again on the fresh state."""
        outcome = await RUNS.execute(
            self.host.store, cmd.tenant, cmd.run_id,
            lambda s: domain.decide_cancel(s, cmd.run_id), races=RACE_RETRIES,
        )  # fmt: skip
        return Accepted(id=cmd.run_id, seq=outcome.seq)

    # ---- the bench --------------------------------------------------------------------------

    async def configure(self, cmd: ConfigureBench) -> Accepted:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        views.check_schedule(cmd.settings.schedule)
        outcome = await BENCHES.execute(
            self.host.store, cmd.tenant, cmd.expert_id,
            lambda s: BenchConfigured(expert_id=cmd.expert_id, settings=cmd.settings),
        )  # fmt: skip
        return Accepted(id=cmd.expert_id, seq=outcome.seq)

    async def add_questions(self, cmd: AddQuestions) -> Accepted:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        outcome = await BENCHES.execute(
            self.host.store, cmd.tenant, cmd.expert_id,
            lambda s: domain.decide_add(s, cmd.expert_id, list(cmd.questions)),
        )  # fmt: skip
        return Accepted(id=cmd.expert_id, seq=outcome.seq)

    async def remove_question(self, cmd: RemoveQuestion) -> Accepted:
        outcome = await BENCHES.execute(
            self.host.store, cmd.tenant, cmd.expert_id,
            lambda s: domain.decide_remove(s, cmd.expert_id, cmd.question_id),
        )  # fmt: skip
        return Accepted(id=cmd.question_id, seq=outcome.seq)

    async def generate_set(self, cmd: GenerateExpertSet) -> Accepted:
        generated = await expert_set.generate(self.host, cmd)
        outcome = await BENCHES.execute(self.host.store, cmd.tenant, cmd.expert_id,
                                        lambda s: generated)  # fmt: skip
        return Accepted(id=cmd.expert_id, seq=outcome.seq)

    # ---- queries ----------------------------------------------------------------------------

    async def get(self, q: GetBenchmark) -> BenchmarkView:
        await self.host.caught_up(STREAM, q.after_seq)
        async with self.host.engine.connect() as conn:
            view = await views.run(conn, q.tenant, q.run_id)
        if view is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"benchmark run {q.run_id} not found")
        return view

    async def list(self, q: ListBenchmarks) -> BenchmarkList:
        await self.host.caught_up(STREAM, q.after_seq)
        async with self.host.engine.connect() as conn:
            return BenchmarkList(runs=await views.runs(conn, q))

    async def results(self, q: GetResults) -> BenchmarkResults:
        await self.host.caught_up(STREAM, q.after_seq)
        state, _ = await RUNS.load(self.host.store, q.tenant, q.run_id)
        if state.queued is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"benchmark run {q.run_id} not found")
        return BenchmarkResults(
            run_id=q.run_id,
            questions=list(state.queued.questions),
            results=[state.results[i] for i in sorted(state.results)],
            scorer_version=state.scorer_version,
        )

    async def questions_of(self, q: ListQuestions) -> QuestionList:
        bench, _ = await BENCHES.load(self.host.store, q.tenant, q.expert_id)
        suites = {
            "builtin": bank.builtin(),
            "expert": list(bench.expert_set),
            "custom": list(bench.custom.values()),
        }
        chosen = [q.suite] if q.suite else list(suites)
        return QuestionList(questions=[x for s in chosen for x in suites[s]])

    async def summary(self, q: GetSummary) -> BenchSummary:
        await self.host.caught_up(STREAM, q.after_seq)
        bench, _ = await BENCHES.load(self.host.store, q.tenant, q.expert_id)
        active = await self.adapter_for(q.tenant, q.expert_id, None)
        async with self.host.engine.connect() as conn:
            return await views.summary(conn, q, bench, active)
