"""ExpertDeleted (on the EXPERT stream) -> every version of the expert is gone (the reactor
"registry.cascade"): one `VersionsErased` on the expert's versions, whatever their tags or
which one is active. The views drop the expert's rows with it, and the reactor
"registry.files" removes the folders, the stored files, the exports and `active.json`
(`version_changes.py`).

Redelivery safe: the erasure is decided once on the expert's versions (`Versions.erased`),
with an event id derived from the ExpertDeleted's."""

from __future__ import annotations

from contracts.expert import ExpertDeleted
from contracts.registry import VersionsErased
from runtime.eventstore import RecordedEvent, derived_id
from runtime.reactor import Progress
from runtime.service import Hosted
from services.registry.aggregates import EXPERT_VERSIONS


class Cascade(Hosted):
    async def on_expert(self, rec: RecordedEvent, _: Progress) -> None:
        if not isinstance(rec.event, ExpertDeleted):
            return
        expert_id = rec.event.expert_id
        await EXPERT_VERSIONS.execute(
            self.host.store,
            rec.tenant,
            expert_id,
            lambda state: None if state.erased else VersionsErased(expert_id=expert_id),
            event_id=derived_id(rec.event_id, "erased"),
            correlation_id=rec.correlation_id,
            races=5,
        )


async def erased(host, tenant: str, expert_id: str) -> bool:
    """Whether the expert's versions were erased (its files must not come back)."""
    state, _ = await EXPERT_VERSIONS.load(host.store, tenant, expert_id)
    return state.erased
