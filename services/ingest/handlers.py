"""Command and query handlers of the ingest service."""

from __future__ import annotations

from contracts import expert
from contracts.base import Accepted, DomainError, ErrorCode
from contracts.ingest import (
    AGGREGATE,
    CONTEXT,
    MEDIA_TYPES,
    DeleteDocument,
    DocumentList,
    DocumentView,
    GetDocument,
    ListDocuments,
    RegisterUpload,
    UploadRegistered,
)
from runtime.aggregate import AggregateType
from runtime.eventstore import ConcurrencyError, EventStore, derived_id
from runtime.rpc import not_found
from runtime.service import ServiceHost
from services.ingest import domain, projections

DOCUMENT = AggregateType(CONTEXT, AGGREGATE, domain.INITIAL, domain.evolve)


def document_id_for(tenant: str, expert_id: str, sha256: str) -> str:
    return derived_id("document", tenant, expert_id, sha256)


async def expert_is_live(store: EventStore, tenant: str, expert_id: str) -> bool:
    """From the expert's own log (the truth), not the expert service's eventually
    consistent view: an upload racing the expert's deletion cannot slip through a stale read."""
    events, _ = await store.load(expert.CONTEXT, tenant, expert.AGGREGATE, expert_id)
    return domain.expert_is_live(rec.event for rec in events)


class IngestHandlers:
    def __init__(self, host: ServiceHost) -> None:
        self.host = host

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
        view = await self.get(
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

    async def get(self, query: GetDocument) -> DocumentView:
        await self.host.caught_up("INGEST", query.after_seq)
        async with self.host.engine.connect() as conn:
            view = await projections.get_document(conn, query.tenant, query.document_id)
        if view is None:
            raise not_found(f"document {query.document_id}")
        return view

    async def list(self, query: ListDocuments) -> DocumentList:
        after = None
        if query.after is not None:
            after = projections.parse_cursor(query.after)
            if after is None:
                raise DomainError(
                    ErrorCode.INVALID, "after must be the `next` cursor of a previous page"
                )
        await self.host.caught_up("INGEST", query.after_seq)
        async with self.host.engine.connect() as conn:
            return await projections.list_documents(
                conn, query.tenant, query.expert_id, limit=query.limit, after=after
            )
