"""When an expert is deleted, its runs still queued or running are cancelled: nothing trains,
or spends money, for an expert that is gone."""

from __future__ import annotations

from contracts.expert import ExpertDeleted
from runtime.eventstore import RecordedEvent, derived_id
from runtime.reactor import Progress
from runtime.service import Hosted
from services.trainer import domain, views
from services.trainer.aggregates import RUNS


class Cascade(Hosted):
    async def on_expert(self, rec: RecordedEvent, _: Progress) -> None:
        if not isinstance(rec.event, ExpertDeleted):
            return
        await self.host.caught_up_with_log()
        async with self.host.engine.connect() as conn:
            runs = await views.active_runs(conn, rec.tenant, rec.event.expert_id)
        for run_id in runs:
            await RUNS.execute(
                self.host.store,
                rec.tenant,
                run_id,
                lambda s, r=run_id: domain.decide_cancel(s, r) if domain.going(s) else None,
                event_id=derived_id(rec.event_id, run_id),
                correlation_id=rec.correlation_id,
            )
