"""When a run completes, what follows on its own.

- A run of a fine-tune's gate (`gate.py`: the candidate and the active version on the
  expert's own set, and both on the built-in bank as the guard against forgetting): when the
  last of its runs has ended (succeeded, failed or cancelled), the promotion is decided on all
  of them — activated through the registry, or held back and why (`PromotionDecided`).
- A candidate run queued without a gate (by hand, or before gates): with "promote only if
  better" on, the new adapter is activated through the registry only if it beats the active
  version's latest run on the same suite by the margin; otherwise it stays inactive and
  `PromotionDecided` says why. With it off, the new adapter is activated. Never from a run
  with questions it could not answer.
- Any other run of the active adapter that scores below the run before it by more than the
  margin, and not within noise: `RegressionDetected` raises the alert (and is on the log for
  integrations), naming the version a rollback would restore. A run with questions it could
  not answer raises none.
"""

from __future__ import annotations

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import (
    BenchmarkCancelled,
    BenchmarkCompleted,
    BenchmarkFailed,
    PromotionDecided,
    RegressionDetected,
)
from contracts.registry import ActivateAdapter
from runtime.eventstore import RecordedEvent, derived_id
from runtime.reactor import Progress
from runtime.rpc import ask
from runtime.service import Hosted
from services.benchmark import domain, gate, scoring, versions, views
from services.benchmark.aggregates import BENCHES, RUNS

ENDINGS = (BenchmarkCompleted, BenchmarkFailed, BenchmarkCancelled)


class NotYet(Exception):
    """The decision waits for another run to finish; the reaction is tried again later."""


class Decisions(Hosted):
    """Promotion of a fine-tune's adapter, and regression alerts, once a run completes."""

    async def on_run(self, rec: RecordedEvent, _: Progress) -> None:
        if not isinstance(rec.event, ENDINGS):
            return
        state, _ = await RUNS.load(self.host.store, rec.tenant, rec.event.run_id)
        queued = state.queued
        if queued is None or queued.setup is not None:
            return
        if queued.gate is not None:  # the gate's runs compare among themselves: no alarm
            await self.decide_gate(rec.tenant, queued.expert_id, queued.gate.candidate_run_id)
            return
        if not isinstance(rec.event, BenchmarkCompleted):
            return
        bench, _ = await BENCHES.load(self.host.store, rec.tenant, queued.expert_id)
        failed = domain.unanswered(state)
        if queued.candidate:
            await self.promote(rec, queued, rec.event, bench.settings, len(failed))
        elif not failed:  # a run with unanswered questions measured an outage too: no alarm
            await self.watch_for_regression(rec, queued, rec.event, bench.settings)

    async def promote(
        self, rec, queued, completed: BenchmarkCompleted, settings, unanswered: int
    ) -> None:
        tenant, expert_id, adapter_id = rec.tenant, queued.expert_id, queued.adapter_id
        deployed = await versions.deployment(self.host.nc, tenant, expert_id)
        active = deployed.adapter_id
        async with self.host.engine.connect() as conn:
            against = await views.latest(conn, tenant, expert_id, queued.suite, active,
                                         not_id=queued.run_id)  # fmt: skip
            if against is None and active != adapter_id:
                pending = await views.pending(conn, tenant, expert_id, queued.suite, active)
                if pending:
                    raise NotYet(f"the run of {active or 'the base model'} has not finished")
        new = completed.metrics.composite
        name = "the base model" if active is None else f"version {active}"
        delta = None if against is None else new - (against.composite_score or 0.0)
        if active == adapter_id:
            promoted, reason = True, "activated (it already answers for the expert)"
        elif unanswered:
            promoted = False
            reason = (
                f"held back: {unanswered} of its questions could not be answered in this run,"
                " so its score is no evidence; run a benchmark of it again"
            )
        elif not settings.promote_only_if_better:
            promoted, reason = True, "activated: 'promote only if better' is off"
        elif against is None:
            promoted = False
            reason = (
                f"held back: {name} has no run on the same questions to compare with;"
                " run a benchmark of it, then activate the better one"
            )
        elif delta >= settings.margin_points:
            promoted = True
            reason = (
                f"activated: {new:.1f} against {against.composite_score:.1f} for {name},"
                f" {delta:+.1f} points (the margin is {settings.margin_points:g})"
            )
        else:
            promoted = False
            reason = (
                f"held back: {new:.1f} against {against.composite_score:.1f} for {name},"
                f" {delta:+.1f} points; it must win by {settings.margin_points:g}"
            )
        if promoted and active != adapter_id:
            promoted, reason = await self.activate(deployed, adapter_id, tenant, reason)
        decided = PromotionDecided(
            expert_id=expert_id, adapter_id=adapter_id, run_id=queued.run_id, promoted=promoted,
            reason=reason[:500], against_run_id=against.id if against else None,
            delta_points=None if delta is None else round(delta, 2),
        )  # fmt: skip
        await BENCHES.execute(
            self.host.store, tenant, expert_id, domain.once_per_run(decided),
            event_id=derived_id(rec.event_id, "promotion"),
        )  # fmt: skip

    async def decide_gate(self, tenant: str, expert_id: str, candidate_run_id: str) -> None:
        """Decide a fine-tune's promotion on its gate's runs, once the last has ended; each
        run's end asks, and the decision is taken once (named after the candidate's run)."""
        candidate, _ = await RUNS.load(self.host.store, tenant, candidate_run_id)
        if candidate.queued is None or candidate.queued.gate is None:
            return  # not queued yet: its own end will ask
        plan, queued = candidate.queued.gate, candidate.queued
        named = [plan.against_run_id, plan.guard_run_id, plan.guard_against_run_id]
        runs = {candidate_run_id: candidate}
        for run_id in filter(None, named):
            runs[run_id], _ = await RUNS.load(self.host.store, tenant, run_id)
        if any(domain.going(state) for state in runs.values()):
            return  # the last of them to end decides
        bench, _ = await BENCHES.load(self.host.store, tenant, expert_id)
        if candidate_run_id in bench.decided:
            return  # a redelivery, or another run's end decided it already

        def read(run_id: str | None) -> gate.Measured | None:
            return None if run_id is None else gate.measured(run_id, runs[run_id])

        deployed = await versions.deployment(self.host.nc, tenant, expert_id)
        verdict = gate.decide(
            read(candidate_run_id), read(plan.against_run_id), read(plan.guard_run_id),
            read(plan.guard_against_run_id), bench.settings, deployed.adapter_id,
        )  # fmt: skip
        promoted, reason = verdict.promoted, verdict.reason
        if promoted and deployed.adapter_id != queued.adapter_id:
            promoted, reason = await self.activate(deployed, queued.adapter_id, tenant, reason)
        decided = PromotionDecided(
            expert_id=expert_id, adapter_id=queued.adapter_id, run_id=candidate_run_id,
            promoted=promoted, reason=reason[:500], against_run_id=plan.against_run_id,
            delta_points=None if verdict.delta is None else round(verdict.delta, 2),
            guard_run_id=plan.guard_run_id,
            guard_delta_points=None if verdict.guard_delta is None
            else round(verdict.guard_delta, 2),
        )  # fmt: skip
        await BENCHES.execute(
            self.host.store, tenant, expert_id, domain.once_per_run(decided),
            event_id=derived_id("gate", tenant, candidate_run_id), races=5,
        )  # fmt: skip

    async def activate(self, deployed, adapter_id: str, tenant: str, reason: str):
        """Activate the candidate on the deployment as it was read, once: a person's choice
        made since (a rollback, another version) wins, and a decision delivered again after
        its activation does not activate a second time."""
        expert_id = deployed.expert_id
        if await versions.activated_by_benchmark(self.host.nc, tenant, expert_id, adapter_id):
            return True, reason  # an earlier delivery did; whatever followed was a person's
        cmd = ActivateAdapter(tenant=tenant, expert_id=expert_id, adapter_id=adapter_id,
                              expected_version=deployed.version, by="benchmark",
                              reason=reason[:500])  # fmt: skip
        try:
            await ask(self.host.nc, cmd)
        except DomainError as exc:
            if exc.code == ErrorCode.CONFLICT:
                return False, "held back: the active version was changed meanwhile; that stands"
            return False, f"held back: the registry refused ({exc.detail})"
        return True, reason

    async def watch_for_regression(self, rec, queued, completed, settings) -> None:
        tenant, expert_id = rec.tenant, queued.expert_id
        active = await versions.active(self.host.nc, tenant, expert_id)
        if queued.adapter_id != active:
            return
        async with self.host.engine.connect() as conn:
            before = await views.latest(conn, tenant, expert_id, queued.suite, active,
                                        not_id=queued.run_id)  # fmt: skip
        if before is None or before.composite_score is None:
            return
        delta = completed.metrics.composite - before.composite_score
        noise = scoring.within_noise(completed.metrics, scoring.metrics_of(before))
        if delta > -settings.margin_points or noise:
            return
        detected = RegressionDetected(
            expert_id=expert_id, adapter_id=active, run_id=queued.run_id,
            previous_run_id=before.id, delta_points=round(delta, 2),
            rollback_to=await versions.rollback_target(self.host.nc, tenant, expert_id),
        )  # fmt: skip
        await BENCHES.execute(
            self.host.store, tenant, expert_id, domain.once_per_run(detected),
            event_id=derived_id(rec.event_id, "regression"),
        )  # fmt: skip
