"""ExpertDeleted (on the EXPERT stream) -> every document of that expert is deleted (the
reactor "ingest.cascade")."""

from __future__ import annotations

from contracts.expert import ExpertDeleted
from runtime.eventstore import RecordedEvent
from runtime.reactor import Progress
from runtime.service import Hosted
from services.ingest import domain, views
from services.ingest.aggregates import decide_in_reaction


class OnExpertDeleted(Hosted):
    """Deletes the documents of a deleted expert, each once however often this runs."""

    async def react(self, rec: RecordedEvent, _: Progress) -> None:
        if not isinstance(rec.event, ExpertDeleted):
            return
        docs = await self.host.read_now(
            lambda conn: views.list_documents(conn, rec.tenant, rec.event.expert_id)
        )
        for doc in docs.documents:
            await decide_in_reaction(
                self.host.store,
                rec,
                doc.id,
                lambda s, d=doc.id: domain.decide_delete(s, d) if s.status in domain.LIVE else None,
                step=doc.id,
            )
