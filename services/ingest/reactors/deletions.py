"""DocumentDeleted -> the chunk list and, unless the document was uploaded again since, the
original file leave the object store (the reactor "ingest.cleanup")."""

from __future__ import annotations

from contracts.ingest import DERIVED_BUCKET, DocumentDeleted
from runtime.eventstore import RecordedEvent
from runtime.logs import get_logger
from runtime.reactor import Progress
from runtime.service import Hosted
from services.ingest import domain
from services.ingest.aggregates import DOCUMENT
from services.ingest.reactors.uploads import chunks_object_name

log = get_logger(__name__)


class OnDocumentDeleted(Hosted):
    """Deletes what a deleted document revision left in the object store."""

    async def react(self, rec: RecordedEvent, _: Progress) -> None:
        if not isinstance(rec.event, DocumentDeleted):
            return
        ev = rec.event
        state, _seq = await DOCUMENT.load(self.host.store, rec.tenant, ev.document_id)
        original = domain.original_to_delete(state, ev.revision)
        if original is not None:
            await self.host.objects.delete(original.bucket, original.name)
        else:
            log.info("document.original_kept", document_id=ev.document_id, revision=ev.revision)
        await self.host.objects.delete(
            DERIVED_BUCKET, chunks_object_name(rec.tenant, ev.document_id, ev.revision)
        )
