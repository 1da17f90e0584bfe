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
from runtime.cascade import cancel_then_erase, erased_flag
from runtime.eventstore import RecordedEvent
from runtime.reactor import Progress
from runtime.service import Hosted
from services.dataset import domain
from services.dataset.aggregates import BUILD

# The expert's line, seen only as "was it erased?": enough to decide the erasure once.
ERASED = erased_flag(CONTEXT, LINE, DatasetsErased)
BUILDING = text(
    "SELECT id FROM dataset.datasets WHERE tenant = :t AND expert_id = :e AND status = 'building'"
)


class OnExpertDeleted(Hosted):
    async def react(self, rec: RecordedEvent, _: Progress) -> None:
        if await cancel_then_erase(
            self.host, rec, going=BUILDING, work=BUILD, line=ERASED, races=3,
            cancel=lambda s, d: domain.decide_cancel(s, d) if domain.still_building(s) else None,
        ):  # fmt: skip
            await self.host.objects.delete_under(BUCKET, f"{rec.tenant}/{rec.event.expert_id}/")
