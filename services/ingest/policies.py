"""Reactions of the ingest service.

- parse: DocumentUploaded -> DocumentParsingStarted -> DocumentChunked | DocumentRejected.
  Parsing runs in a worker thread; a crash mid-way redelivers the upload, and every event
  appended here has an id derived from the upload's id, so nothing is appended twice.
- cleanup: DocumentDeleted -> the original file and its chunk list leave the object store.
- cascade: ExpertDeleted -> every document of that expert is deleted.
"""

from __future__ import annotations

import asyncio

from contracts.expert import ExpertDeleted
from contracts.ingest import (
    DERIVED_BUCKET,
    DocumentChunked,
    DocumentDeleted,
    DocumentUploaded,
)
from runtime.codec import encode
from runtime.eventstore import RecordedEvent, derived_id
from runtime.logs import get_logger
from runtime.objects import ObjectCorrupt, ObjectMissing
from runtime.reactor import Progress
from runtime.service import ServiceHost
from services.ingest import domain, projections
from services.ingest.chunking import chunk_pages
from services.ingest.handlers import DOCUMENT
from services.ingest.parsing import ParseError, parse_document

log = get_logger(__name__)


def chunks_object_name(tenant: str, document_id: str, revision: int) -> str:
    return f"{tenant}/{document_id}/{revision}.chunks.json"


class IngestPolicies:
    def __init__(self, host: ServiceHost) -> None:
        self.host = host
        self.settings = host.settings

    async def parse(self, rec: RecordedEvent, progress: Progress) -> None:
        if not isinstance(rec.event, DocumentUploaded):
            return
        up = rec.event
        started = await DOCUMENT.execute(
            self.host.store,
            rec.tenant,
            up.document_id,
            lambda s: domain.decide_start_parsing(s, up.revision),
            event_id=derived_id(rec.event_id, "parsing"),
            correlation_id=rec.correlation_id,
        )
        if not domain.still_parsing(started.state, up.revision):
            return  # finished before a crash, deleted, or superseded by a newer upload
        try:
            data = await self.host.objects.get(up.object)
            await progress()
            pages = await asyncio.to_thread(
                parse_document, data, up.media_type, max_pages=self.settings.max_pages
            )
            await progress()
            chunks = await asyncio.to_thread(
                chunk_pages,
                pages,
                size=self.settings.chunk_size,
                overlap=self.settings.chunk_overlap,
            )
        except ParseError as exc:
            await self._reject(rec, up, exc.code, exc.reason)
            return
        except (ObjectMissing, ObjectCorrupt) as exc:
            await self._reject(
                rec, up, "corrupt", f"The stored file could not be read back ({exc})."
            )
            return
        ref = await self.host.objects.put(
            DERIVED_BUCKET,
            chunks_object_name(rec.tenant, up.document_id, up.revision),
            encode(chunks),
        )
        done = DocumentChunked(
            document_id=up.document_id,
            expert_id=up.expert_id,
            revision=up.revision,
            filename=up.filename,
            pages=len(pages),
            chunk_count=len(chunks),
            chunks=ref,
            chunk_size=self.settings.chunk_size,
            chunk_overlap=self.settings.chunk_overlap,
        )
        await DOCUMENT.execute(
            self.host.store,
            rec.tenant,
            up.document_id,
            lambda s: domain.decide_chunked(s, up.revision, done),
            event_id=derived_id(rec.event_id, "done"),
            correlation_id=rec.correlation_id,
        )
        log.info(
            "document.chunked", document_id=up.document_id, pages=len(pages), chunks=len(chunks)
        )

    async def _reject(
        self, rec: RecordedEvent, up: DocumentUploaded, code: str, reason: str
    ) -> None:
        await DOCUMENT.execute(
            self.host.store,
            rec.tenant,
            up.document_id,
            lambda s: domain.decide_rejected(s, up.revision, code, reason),
            event_id=derived_id(rec.event_id, "done"),
            correlation_id=rec.correlation_id,
        )
        log.info("document.rejected", document_id=up.document_id, code=code)

    async def cleanup(self, rec: RecordedEvent, _: Progress) -> None:
        if not isinstance(rec.event, DocumentDeleted):
            return
        ev = rec.event
        events, _last = await self.host.store.load("ingest", rec.tenant, "document", ev.document_id)
        for past in events:
            if isinstance(past.event, DocumentUploaded) and past.event.revision == ev.revision:
                await self.host.objects.delete(past.event.object.bucket, past.event.object.name)
        await self.host.objects.delete(
            DERIVED_BUCKET, chunks_object_name(rec.tenant, ev.document_id, ev.revision)
        )

    async def cascade(self, rec: RecordedEvent, _: Progress) -> None:
        if not isinstance(rec.event, ExpertDeleted):
            return
        info = await self.host.js.stream_info("INGEST")
        await self.host.caught_up("INGEST", info.state.last_seq, timeout=30.0)
        async with self.host.engine.connect() as conn:
            docs = await projections.list_documents(conn, rec.tenant, rec.event.expert_id)
        for doc in docs.documents:
            await DOCUMENT.execute(
                self.host.store,
                rec.tenant,
                doc.id,
                lambda s, d=doc.id: domain.decide_delete(s, d) if s.status in domain.LIVE else None,
                event_id=derived_id(rec.event_id, doc.id),
                correlation_id=rec.correlation_id,
            )
