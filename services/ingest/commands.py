"""Command handlers of the ingest service: register an upload, delete a document."""

from __future__ import annotations

from contracts.base import Accepted, DomainError, ErrorCode
from contracts.ingest import (
    MEDIA_TYPES,
    DeleteDocument,
    GetDocument,
    RegisterUpload,
    UploadRegistered,
)
from runtime.eventstore import ConcurrencyError
from runtime.rpc import not_found
from runtime.service import ServiceHost
from services.ingest import domain
from services.ingest.aggregates import DOCUMENT, document_id_for, expert_is_live
from services.ingest.queries import IngestQueries


class IngestCommands:
    def __init__(self, host: ServiceHost, queries: IngestQueries) -> None:
        self.host, self.queries = host, queries

    async def register_upload(self, cmd: RegisterUpload) -> UploadRegistered:
        if cmd.media_type not in MEDIA_TYPES:
            raise DomainError(ErrorCode.UNSUPPORTED_TYPE, f"{cmd.media_type} is not supported")
        if cmd.object.size <= 0:
            raise DomainError(ErrorCode.INVALID, f"{cmd.filename} is empty")
        if not await expert_is_live(self.host.store, cmd.tenant, cmd.expert_id):
            raise not_found(f"expert {cmd.expert_id}")
        doc_id = document_id_for(cmd.tenant, cmd.expert_id, cmd.object.sha256)
        try:
            outcome = await DOCUMENT.execute(
                self.host.store, cmd.tenant, doc_id, lambda s: domain.decide_upload(s, cmd, doc_id)
            )
        except ConcurrencyError:  # the same bytes were registered a moment ago
            outcome = await DOCUMENT.execute(self.host.store, cmd.tenant, doc_id, lambda s: None)
        view = await self.queries.get(
            GetDocument(tenant=cmd.tenant, document_id=doc_id, after_seq=outcome.seq)
        )
        return UploadRegistered(document=view, duplicate=outcome.event is None, seq=outcome.seq)

    async def delete(self, cmd: DeleteDocument) -> Accepted:
        outcome = await DOCUMENT.execute(
            self.host.store,
            cmd.tenant,
            cmd.document_id,
            lambda s: domain.decide_delete(s, cmd.document_id),
        )
        return Accepted(id=cmd.document_id, seq=outcome.seq)
