"""What the knowledge service does when ingest's documents change (`OnDocuments`, the
reactor "knowledge.index" on the INGEST stream):

- DocumentChunked -> EmbeddingStarted -> (embed in batches) -> DocumentIndexed | IndexingFailed
- DocumentDeleted -> DocumentUnindexed (its chunks leave the index) and its matrix is deleted.
Every event appended here has an id derived from the triggering event, so a redelivery
after a crash appends nothing twice. When every attempt at indexing failed, `give_up`
decides IndexingFailed with a reason a person can act on.
"""

from __future__ import annotations

import msgspec

from contracts.ingest import DERIVED_BUCKET, DocumentChunked, DocumentDeleted
from contracts.knowledge import DocumentIndexed, DocumentUnindexed, EmbeddingStarted, IndexingFailed
from runtime.eventstore import RecordedEvent, derived_id
from runtime.logs import get_logger
from runtime.objects import ObjectCorrupt, ObjectMissing
from runtime.reactor import Progress
from runtime.service import ServiceHost
from services.knowledge import domain
from services.knowledge.aggregates import INDEX
from services.knowledge.embedder import Embedder
from services.knowledge.stored import embeddings_object_name, load_chunks

log = get_logger(__name__)


PASSAGES_UNREADABLE = (
    "The stored passages of this document are damaged or missing, so Simtune cannot index"
    " them; delete the document and upload the file again."
)


def gave_up(attempts: int) -> str:
    return (
        f"Simtune tried {attempts} times to index this document and failed each time; delete"
        " it and upload it again, and if that fails too, tell whoever runs your Simtune."
    )


class OnDocuments:
    """Reacts to ingest's document events: a chunked revision is indexed, a deleted one
    leaves the index."""

    def __init__(self, host: ServiceHost, embedder: Embedder) -> None:
        self.host, self.embedder = host, embedder

    async def react(self, rec: RecordedEvent, progress: Progress) -> None:
        if isinstance(rec.event, DocumentChunked):
            await self.index(rec, rec.event, progress)
        elif isinstance(rec.event, DocumentDeleted):
            await self.unindex(rec, rec.event)

    async def index(self, rec: RecordedEvent, ev: DocumentChunked, progress: Progress) -> None:
        outcome = await self._start(rec, ev)
        if not domain.still_embedding(outcome.state, ev.revision):
            return  # already indexed before a crash, removed, or superseded
        try:
            chunks = await load_chunks(self.host.objects, ev.chunks, rec.tenant)
        except (ObjectMissing, ObjectCorrupt, msgspec.DecodeError):
            await self._fail(rec, ev, PASSAGES_UNREADABLE)
            return

        async def on_batch(done: int, total: int) -> None:
            await progress()

        matrix = await self.embedder.embed([c.text for c in chunks], on_batch)
        ref = await self.host.objects.put(
            DERIVED_BUCKET,
            embeddings_object_name(rec.tenant, ev.document_id, ev.revision),
            matrix.astype("<f4").tobytes(),
            tenant=rec.tenant,
        )
        indexed = DocumentIndexed(
            document_id=ev.document_id,
            expert_id=ev.expert_id,
            revision=ev.revision,
            filename=ev.filename,
            chunk_count=len(chunks),
            chunks=ev.chunks,
            embeddings=ref,
            model=self.embedder.name,
            dimensions=self.embedder.dimensions,
        )
        await self._append(rec, ev, lambda s: domain.decide_finish(s, indexed), "done")
        log.info("document.indexed", document_id=ev.document_id, chunks=len(chunks))

    async def give_up(self, rec: RecordedEvent, error: BaseException) -> None:
        """Every attempt at indexing failed: the document is marked failed, saying why."""
        if isinstance(rec.event, DocumentChunked):
            await self._start(rec, rec.event)  # so the failure has a revision to land on
            await self._fail(rec, rec.event, gave_up(self.host.settings.max_deliveries))

    async def _start(self, rec: RecordedEvent, ev: DocumentChunked):
        started = EmbeddingStarted(
            document_id=ev.document_id,
            expert_id=ev.expert_id,
            revision=ev.revision,
            chunk_count=ev.chunk_count,
        )
        return await self._append(rec, ev, lambda s: domain.decide_start(s, started), "embedding")

    async def _fail(self, rec: RecordedEvent, ev: DocumentChunked, reason: str) -> None:
        failed = IndexingFailed(document_id=ev.document_id, revision=ev.revision, reason=reason)
        await self._append(rec, ev, lambda s: domain.decide_finish(s, failed), "done")
        log.info("document.indexing_failed", document_id=ev.document_id)

    async def _append(
        self, rec: RecordedEvent, ev: DocumentChunked | DocumentDeleted, decide, step: str
    ):
        """Decide on the document's index state and append, with an id derived from `rec`
        and `step` (a redelivery appends nothing twice)."""
        return await INDEX.execute(
            self.host.store,
            rec.tenant,
            ev.document_id,
            decide,
            event_id=derived_id(rec.event_id, step),
            correlation_id=rec.correlation_id,
        )

    async def unindex(self, rec: RecordedEvent, ev: DocumentDeleted) -> None:
        removed = DocumentUnindexed(document_id=ev.document_id, revision=ev.revision)
        await self._append(rec, ev, lambda s: domain.decide_remove(s, removed), "unindexed")
        await self.host.objects.delete(
            DERIVED_BUCKET, embeddings_object_name(rec.tenant, ev.document_id, ev.revision)
        )
