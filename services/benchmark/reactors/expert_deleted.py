"""ExpertDeleted (on the EXPERT stream) -> nothing of the expert's benchmarks is left (the
reactor "benchmark.cascade"): its runs still queued or running are cancelled, then one
`BenchErased` on its bench drops its runs, alerts and settings from the views (so its
schedule stops too). Decided once, with event ids derived from the ExpertDeleted's, so a
redelivery appends nothing."""

from __future__ import annotations

from sqlalchemy import text

from contracts.benchmark import BENCH, CONTEXT, BenchErased
from contracts.expert import ExpertDeleted
from runtime.aggregate import AggregateType
from runtime.eventstore import RecordedEvent, derived_id
from runtime.reactor import Progress
from runtime.service import Hosted
from services.benchmark import domain
from services.benchmark.aggregates import RUNS

# The expert's bench seen only as "was it erased?": enough to decide the erasure once.
ERASED = AggregateType(
    CONTEXT, BENCH, False, lambda erased, event: erased or isinstance(event, BenchErased)
)
GOING = text(
    "SELECT id FROM benchmark.runs WHERE tenant = :t AND expert_id = :e"
    " AND status IN ('queued', 'running')"
)


class Cascade(Hosted):
    async def on_expert(self, rec: RecordedEvent, _: Progress) -> None:
        if not isinstance(rec.event, ExpertDeleted):
            return
        tenant, expert_id = rec.tenant, rec.event.expert_id
        await self.host.caught_up_with_log()
        async with self.host.engine.connect() as conn:
            going = list(await conn.scalars(GOING, {"t": tenant, "e": expert_id}))
        for run_id in going:
            await RUNS.execute(
                self.host.store,
                tenant,
                run_id,
                lambda s, r=run_id: domain.decide_cancel(s, r) if domain.going(s) else None,
                event_id=derived_id(rec.event_id, "cancel", run_id),
                correlation_id=rec.correlation_id,
                races=5,
            )
        await ERASED.execute(
            self.host.store,
            tenant,
            expert_id,
            lambda erased: None if erased else BenchErased(expert_id=expert_id),
            event_id=derived_id(rec.event_id, "erased"),
            correlation_id=rec.correlation_id,
            races=5,
        )
