"""Queueing a diagnosis (three runs of the expert's own questions) and reading its verdict."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from contracts.benchmark import Diagnose, DiagnosisStep, DiagnosisView, GetDiagnosis
from runtime.experts import require_expert
from services.benchmark.diagnosis import SETUPS, verdict
from services.benchmark.handlers import BenchmarkHandlers

LATEST = text(
    "SELECT id, setup, status, composite, avg_quality FROM benchmark.runs"
    " WHERE tenant = :t AND expert_id = :e AND diagnosis_id = ("
    "  SELECT diagnosis_id FROM benchmark.runs WHERE tenant = :t AND expert_id = :e"
    "  AND diagnosis_id IS NOT NULL ORDER BY queued_at DESC LIMIT 1)"
)


class Diagnosing:
    def __init__(self, handlers: BenchmarkHandlers) -> None:
        self.handlers, self.host = handlers, handlers.host

    async def diagnose(self, cmd: Diagnose) -> DiagnosisView:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        diagnosis_id = uuid.uuid4().hex[:16]
        active = await self.handlers.adapter_for(cmd.tenant, cmd.expert_id, None)
        steps = []
        for setup, (mode, tuned) in SETUPS.items():
            if tuned and active is None:
                continue  # no adapter is active: there is nothing to compare it with
            run_id, _ = await self.handlers.queue(
                cmd.tenant, cmd.expert_id, "expert", cmd.size, active if tuned else None,
                "diagnosis", seed=f"{diagnosis_id}:{setup}", mode=mode,
                diagnosis_id=diagnosis_id, setup=setup,
            )  # fmt: skip
            steps.append(DiagnosisStep(setup=setup, run_id=run_id, composite=None,
                                       avg_quality=None))  # fmt: skip
        return DiagnosisView(expert_id=cmd.expert_id, status="queued", steps=steps)

    async def diagnosis(self, q: GetDiagnosis) -> DiagnosisView:
        await self.host.caught_up("BENCHMARK", q.after_seq)
        async with self.host.engine.connect() as conn:
            rows = (await conn.execute(LATEST, {"t": q.tenant, "e": q.expert_id})).all()
        if not rows:
            return DiagnosisView(expert_id=q.expert_id, status="none")
        order = list(SETUPS)
        rows = sorted(rows, key=lambda r: order.index(r.setup))
        steps = [
            DiagnosisStep(
                setup=r.setup, run_id=r.id, composite=r.composite, avg_quality=r.avg_quality
            )  # fmt: skip
            for r in rows
        ]
        statuses = {r.status for r in rows}
        status = next(
            (s for s in ("failed", "cancelled", "running", "queued") if s in statuses),
            "succeeded",
        )
        said, evidence = verdict(steps) if status == "succeeded" else ("", [])
        return DiagnosisView(expert_id=q.expert_id, status=status, steps=steps, verdict=said,
                             advice=evidence)  # fmt: skip
