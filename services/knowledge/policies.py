"""Reactions of the knowledge service to the ingest log.

- DocumentChunked -> EmbeddingStarted -> (embed in batches) -> DocumentIndexed | IndexingFailed
- DocumentDeleted -> DocumentUnindexed (its chunks leave the index) and its matrix is deleted.
Every event appended here has an id derived from the triggering event, so a redelivery
after a crash appends nothing twice. When every attempt at indexing failed, `index_failed`
decides IndexingFailed with a reason a person can act on.
"""

from __future__ import annotations

import msgspec

from contracts.ingest import DERIVED_BUCKET, Chunk, DocumentChunked, DocumentDeleted
from contracts.knowledge import (
    AGGREGATE,
    CONTEXT,
    DocumentIndexed,
    DocumentUnindexed,
    EmbeddingStarted,
    IndexingFailed,
)
from runtime.aggregate import AggregateType
from runtime.eventstore import RecordedEvent, derived_id
from runtime.logs import get_logger
from runtime.objects import ObjectCorrupt, ObjectMissing
from runtime.reactor import Progress
from runtime.service import ServiceHost
from services.knowledge import domain
from services.knowledge.embedder import Embedder

log = get_logger(__name__)
INDEX = AggregateType(CONTEXT, AGGREGATE, domain.INITIAL, domain.evolve)
_chunks = msgspec.json.Decoder(list[Chunk])


PASSAGES_UNREADABLE = (
    "The stored passages of this document are damaged or missing, so Simtune cannot index"
    " them; delete the document and upload the file again."
)


def gave_up(attempts: int) -> str:
    return (
        f"Simtune tried {attempts} times to index this document and failed each time; delete"
        " it and upload it again, and if that fails too, tell whoever runs your Simtune."
    )


def embeddings_object_name(tenant: str, document_id: str, revision: int) -> str:
    return f"{tenant}/{document_id}/{revision}.embeddings.f32"


class KnowledgePolicies:
    def __init__(self, host: ServiceHost, embedder: Embedder) -> None:
        self.host, self.embedder = host, embedder

    async def on_ingest(self, rec: RecordedEvent, progress: Progress) -> None:
        if isinstance(rec.event, DocumentChunked):
            await self.index(rec, rec.event, progress)
        elif isinstance(rec.event, DocumentDeleted):
            await self.unindex(rec, rec.event)

    async def index(self, rec: RecordedEvent, ev: DocumentChunked, progress: Progress) -> None:
        outcome = await self._start(rec, ev)
        if not domain.still_embedding(outcome.state, ev.revision):
            return  # already indexed before a crash, removed, or superseded
        try:
            chunks = _chunks.decode(await self.host.objects.get(ev.chunks))
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

    async def index_failed(self, rec: RecordedEvent, error: BaseException) -> None:
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

    async def _append(self, rec: RecordedEvent, ev: DocumentChunked, decide, step: str):
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
        await INDEX.execute(
            self.host.store,
            rec.tenant,
            ev.document_id,
            lambda s: domain.decide_remove(s, removed),
            event_id=derived_id(rec.event_id, "unindexed"),
            correlation_id=rec.correlation_id,
        )
        await self.host.objects.delete(
            DERIVED_BUCKET, embeddings_object_name(rec.tenant, ev.document_id, ev.revision)
        )
