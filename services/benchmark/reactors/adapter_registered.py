"""After every fine-tune (`AdapterRegistered` from a training run), the gate that decides its
promotion (`gate.py`; `run_completed.py` decides once the gate's runs have ended):

1. the expert's own set is written from the held-out side of the dataset that run trained on,
   when the expert has none or one written from an older dataset version (`ExpertSetGenerated`,
   as a person's request records it), so the adapter is judged on what the expert is for;
2. the new adapter gets a quick run on that set (the built-in bank when none could be written)
   as the candidate, and the active version one on the same questions, to have something to
   beat, unless it has a recent one;
3. when the candidate is judged on its own set, both also get a quick run of the built-in
   bank — the guard against forgetting — again reusing a recent run of the active version.

The runs name each other (`Gate`) and are named after the registration event, so a redelivered
event queues nothing twice and writes no second set. `SIMTUNE_BENCH_AFTER_TRAINING=off`, or the
expert's own setting, turns this off."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import Gate
from contracts.dataset import GetDataset
from contracts.registry import AdapterRegistered
from runtime.eventstore import RecordedEvent, derived_id
from runtime.logs import get_logger
from runtime.reactor import Progress
from runtime.rpc import ask
from services.benchmark import domain, expert_set, gate, scoring, versions, views
from services.benchmark.aggregates import BENCHES, RUNS
from services.benchmark.commands import BenchmarkCommands, run_id_of

log = get_logger(__name__)
# What a dataset that cannot give a set answers with: gone, someone else's, or without
# held-out questions from documents. The gate then uses the set the expert has, or the bank.
NO_SET = (ErrorCode.NOT_FOUND, ErrorCode.INVALID, ErrorCode.CONFLICT)


class AfterTraining:
    def __init__(self, commands: BenchmarkCommands) -> None:
        self.commands, self.host = commands, commands.host

    async def on_registry(self, rec: RecordedEvent, _: Progress) -> None:
        ev = rec.event
        if not isinstance(ev, AdapterRegistered) or ev.source != "trained" or not ev.valid:
            return
        tenant, expert_id = rec.tenant, ev.expert_id
        bench, _ = await BENCHES.load(self.host.store, tenant, expert_id)
        if not (self.host.settings.bench_after_training and bench.settings.after_training):
            return
        bench = await self.own_set(rec, ev, bench)
        suite = "expert" if bench.expert_set else "builtin"
        active = await versions.active(self.host.nc, tenant, expert_id)

        def named(seed: str) -> str:
            return run_id_of(tenant, expert_id, f"{seed}:{rec.event_id}")

        against = await self.reusable(tenant, expert_id, bench, suite, active)
        guard = guard_against = None
        if suite == "expert":
            guard = named("after-guard")
            guard_against = await self.reusable(tenant, expert_id, bench, "builtin", active)
        plan = Gate(
            candidate_run_id=named("after"),
            against_run_id=against or named("after-active"),
            guard_run_id=guard,
            guard_against_run_id=guard_against or (guard and named("after-guard-active")),
        )
        # The active version's runs first: one runner takes runs in order, so the candidate
        # ends last and its end decides without waiting.
        runs = [
            (against is None, suite, active, "after-active", False),
            (guard is not None and guard_against is None, "builtin", active,
             "after-guard-active", False),
            (guard is not None, "builtin", ev.adapter_id, "after-guard", False),
            (True, suite, ev.adapter_id, "after", True),
        ]  # fmt: skip
        for wanted, on, adapter, seed, candidate in runs:
            if wanted:
                await self.commands.queue(
                    tenant, expert_id, on, "quick", adapter, "after_training",
                    seed=f"{seed}:{rec.event_id}", candidate=candidate, gate=plan,
                )  # fmt: skip

    async def own_set(self, rec: RecordedEvent, ev: AdapterRegistered, bench):
        """The bench with the expert's own set written from the run's dataset, when it has
        no set or one from an older version of its dataset; as it was when the dataset
        cannot give one."""
        if ev.dataset_id is None:
            return bench
        try:
            dataset = await ask(self.host.nc, GetDataset(tenant=rec.tenant,
                                                         dataset_id=ev.dataset_id))  # fmt: skip
            if dataset.expert_id != ev.expert_id:
                raise DomainError(ErrorCode.NOT_FOUND, f"dataset {ev.dataset_id} not found")
            if not domain.set_is_older(bench, dataset.id, dataset.version):
                return bench
            written = await expert_set.from_dataset(
                self.host, rec.tenant, dataset, trigger="after_training"
            )
        except DomainError as exc:
            if exc.code not in NO_SET:
                raise  # the dataset service is down: tried again
            log.info("benchmark.no_expert_set", expert=ev.expert_id, dataset=ev.dataset_id,
                     reason=exc.detail)  # fmt: skip
            return bench

        def decide(state):
            return written if domain.set_is_older(state, dataset.id, dataset.version) else None

        await BENCHES.execute(
            self.host.store, rec.tenant, ev.expert_id, decide,
            event_id=derived_id(rec.event_id, "expert-set"), correlation_id=rec.correlation_id,
        )  # fmt: skip
        bench, _ = await BENCHES.load(self.host.store, rec.tenant, ev.expert_id)
        return bench

    async def reusable(
        self, tenant: str, expert_id: str, bench, suite: str, adapter: str | None
    ) -> str | None:
        """The active version's latest run on `suite`, when it can stand in for a new one:
        finished within `gate.REUSE_WITHIN`, every question answered, asked the questions a
        quick run asks now and scored by the current scorer."""
        async with self.host.engine.connect() as conn:
            latest = await views.latest(conn, tenant, expert_id, suite, adapter)
        if latest is None or latest.scorer_version != scoring.SCORER_VERSION:
            return None
        finished = datetime.fromisoformat(latest.finished_at) if latest.finished_at else None
        if finished is None or datetime.now(UTC) - finished > gate.REUSE_WITHIN:
            return None
        state, _ = await RUNS.load(self.host.store, tenant, latest.id)
        asked = list(state.queued.questions) if state.queued else None
        if asked != domain.questions_for(bench, suite, "quick") or domain.unanswered(state):
            return None
        return latest.id
