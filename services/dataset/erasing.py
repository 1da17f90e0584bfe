"""ExpertDeleted (on the EXPERT stream) -> everything of the expert's datasets is gone (the
reactor "dataset.cascade"): builds still going are cancelled, one `DatasetsErased` on the
expert's line drops every version from the views, and the stored examples, rejections and
exports (all named `<tenant>/<expert_id>/…` in the `datasets` bucket) are deleted.

Redelivery safe: the erasure is decided once (an aggregate that only knows whether the line
was erased), its event id derives from the ExpertDeleted's, and deleting objects that are
already gone is a no-op."""

from __future__ import annotations

from sqlalchemy import text

from contracts.dataset import BUCKET, CONTEXT, LINE, DatasetsErased
from contracts.expert import ExpertDeleted
from runtime.aggregate import AggregateType
from runtime.eventstore import RecordedEvent, derived_id
from runtime.reactor import Progress
from runtime.service import Hosted
from services.dataset import domain
from services.dataset.aggregates import BUILD

# The expert's line, seen only as "was it erased?": enough to decide the erasure once.
ERASED = AggregateType(
    CONTEXT, LINE, False, lambda erased, event: erased or isinstance(event, DatasetsErased)
)
BUILDING = text(
    "SELECT id FROM dataset.datasets WHERE tenant = :t AND expert_id = :e AND status = 'building'"
)


class OnExpertDeleted(Hosted):
    async def react(self, rec: RecordedEvent, _: Progress) -> None:
        if not isinstance(rec.event, ExpertDeleted):
            return
        tenant, expert_id = rec.tenant, rec.event.expert_id
        await self.host.caught_up_with_log()
        async with self.host.engine.connect() as conn:
            building = (await conn.execute(BUILDING, {"t": tenant, "e": expert_id})).scalars()
            building = list(building)
        for dataset_id in building:
            await BUILD.execute(
                self.host.store,
                tenant,
                dataset_id,
                lambda s, d=dataset_id: (
                    domain.decide_cancel(s, d) if domain.still_building(s) else None
                ),
                event_id=derived_id(rec.event_id, "cancel", dataset_id),
                correlation_id=rec.correlation_id,
                races=3,
            )
        await ERASED.execute(
            self.host.store,
            tenant,
            expert_id,
            lambda erased: None if erased else DatasetsErased(expert_id=expert_id),
            event_id=derived_id(rec.event_id, "erased"),
            correlation_id=rec.correlation_id,
            races=3,
        )
        await self.host.objects.delete_under(BUCKET, f"{tenant}/{expert_id}/")
