"""Commands of the benchmark service: queue, cancel and rescore runs, queue a diagnosis, and an
expert's settings and question sets. The reactors queue runs through `queue` too."""

from __future__ import annotations

import hashlib
import uuid

from contracts.base import Accepted, DomainError, ErrorCode
from contracts.benchmark import (
    AddQuestions,
    BenchAccepted,
    BenchmarkQueued,
    BenchmarkRescored,
    CancelBenchmark,
    ConfigureBench,
    Diagnose,
    DiagnosisStep,
    DiagnosisView,
    GenerateExpertSet,
    RemoveQuestion,
    RescoreBenchmark,
    StartBenchmark,
)
from runtime.experts import require_expert
from runtime.service import ServiceHost
from services.benchmark import domain, expert_set, scoring, versions
from services.benchmark.aggregates import BENCHES, RUNS
from services.benchmark.diagnosis import SETUPS
from services.benchmark.examiner import Examiner

RACE_RETRIES = 20


def run_id_of(tenant: str, expert_id: str, seed: str) -> str:
    """The id of the run `queue` names after `seed`: known before it is queued, so runs that
    are decided on together can name each other."""
    return hashlib.sha256(f"bench:{tenant}:{expert_id}:{seed}".encode()).hexdigest()[:16]


class BenchmarkCommands:
    def __init__(self, host: ServiceHost, examiner: Examiner) -> None:
        self.host, self.examiner = host, examiner

    # ---- runs -------------------------------------------------------------------------------

    async def start(self, cmd: StartBenchmark) -> BenchAccepted:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        adapter = await versions.adapter_for(self.host.nc, cmd.tenant, cmd.expert_id,
                                             cmd.adapter_id)  # fmt: skip
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
        questions = domain.questions_for(bench, suite, size)
        run_id = run_id_of(tenant, expert_id, seed)
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

    async def cancel(self, cmd: CancelBenchmark) -> Accepted:
        """A run records an answer every second or so: a cancel that lost the race to one is
        decided again on the fresh state."""
        outcome = await RUNS.execute(
            self.host.store, cmd.tenant, cmd.run_id,
            lambda s: domain.decide_cancel(s, cmd.run_id), races=RACE_RETRIES,
        )  # fmt: skip
        return Accepted(id=cmd.run_id, seq=outcome.seq)

    async def rescore(self, cmd: RescoreBenchmark) -> Accepted:
        """Score a finished run again with the current scorer: the answers stay as they were
        given, each is judged anew, and `BenchmarkRescored` records the new scores and metrics
        beside the old ones (nothing is overwritten on the log)."""
        state, _ = await RUNS.load(self.host.store, cmd.tenant, cmd.run_id)
        if state.queued is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"benchmark run {cmd.run_id} not found")
        if state.status != "succeeded":
            raise DomainError(ErrorCode.CONFLICT, f"run {cmd.run_id} has not finished")
        if state.scorer_version >= scoring.SCORER_VERSION:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"run {cmd.run_id} is already scored by scorer version {state.scorer_version},"
                " the newest",
            )
        questions = {q.id: q for q in state.queued.questions}
        results = [
            await self.examiner.rescored(cmd.tenant, questions[old.question_id], old)
            for old in (state.results[i] for i in sorted(state.results))
        ]
        resources = state.completed.metrics.resources if state.completed else None
        metrics = scoring.metrics(list(state.queued.questions), results, resources)
        rescored = BenchmarkRescored(run_id=cmd.run_id, scorer_version=scoring.SCORER_VERSION,
                                     results=results, metrics=metrics)  # fmt: skip
        outcome = await RUNS.execute(
            self.host.store, cmd.tenant, cmd.run_id,
            lambda s: rescored if s.scorer_version < scoring.SCORER_VERSION else None,
        )  # fmt: skip
        return Accepted(id=cmd.run_id, seq=outcome.seq)

    async def diagnose(self, cmd: Diagnose) -> DiagnosisView:
        """Queue a diagnosis: the expert's own questions asked three ways (`diagnosis.py`)."""
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        diagnosis_id = uuid.uuid4().hex[:16]
        active = await versions.active(self.host.nc, cmd.tenant, cmd.expert_id)
        steps = []
        for setup, (mode, tuned) in SETUPS.items():
            if tuned and active is None:
                continue  # no adapter is active: there is nothing to compare it with
            run_id, _ = await self.queue(
                cmd.tenant, cmd.expert_id, "expert", cmd.size, active if tuned else None,
                "diagnosis", seed=f"{diagnosis_id}:{setup}", mode=mode,
                diagnosis_id=diagnosis_id, setup=setup,
            )  # fmt: skip
            steps.append(DiagnosisStep(setup=setup, run_id=run_id, composite=None,
                                       avg_quality=None))  # fmt: skip
        return DiagnosisView(expert_id=cmd.expert_id, status="queued", steps=steps)

    # ---- the bench --------------------------------------------------------------------------

    async def configure(self, cmd: ConfigureBench) -> Accepted:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        return await self._on_bench(
            cmd.tenant, cmd.expert_id,
            lambda s: domain.decide_configure(s, cmd.expert_id, cmd.settings),
        )  # fmt: skip

    async def add_questions(self, cmd: AddQuestions) -> Accepted:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        return await self._on_bench(
            cmd.tenant, cmd.expert_id,
            lambda s: domain.decide_add(s, cmd.expert_id, list(cmd.questions)),
        )  # fmt: skip

    async def remove_question(self, cmd: RemoveQuestion) -> Accepted:
        return await self._on_bench(
            cmd.tenant, cmd.expert_id,
            lambda s: domain.decide_remove(s, cmd.expert_id, cmd.question_id),
            accepted=cmd.question_id,
        )  # fmt: skip

    async def generate_set(self, cmd: GenerateExpertSet) -> Accepted:
        generated = await expert_set.generate(self.host, cmd)
        return await self._on_bench(cmd.tenant, cmd.expert_id, lambda s: generated)

    async def _on_bench(
        self, tenant: str, expert_id: str, decide, *, accepted: str = ""
    ) -> Accepted:
        """Decide on the expert's bench and append; the reply names `accepted` (the expert
        by default)."""
        outcome = await BENCHES.execute(self.host.store, tenant, expert_id, decide)
        return Accepted(id=accepted or expert_id, seq=outcome.seq)
