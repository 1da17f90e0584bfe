"""Command handlers of the ingest service: register an upload (within the tenant's storage
limit, `storage`), delete a document."""

from __future__ import annotations

from contracts import ingest
from contracts.base import Accepted, DomainError, ErrorCode
from runtime.eventstore import ConcurrencyError
from runtime.rpc import not_found
from runtime.service import ServiceHost
from services.ingest import domain, storage
from services.ingest.aggregates import DOCUMENT, document_id_for, expert_is_live
from services.ingest.queries import IngestQueries


class IngestCommands:
    def __init__(self, host: ServiceHost, queries: IngestQueries) -> None:
        self.host, self.queries = host, queries

    async def register_upload(self, cmd: ingest.RegisterUpload) -> ingest.UploadRegistered:
        if cmd.media_type not in ingest.MEDIA_TYPES:
            raise DomainError(ErrorCode.UNSUPPORTED_TYPE, f"{cmd.media_type} is not supported")
        if cmd.object.size <= 0:
            raise DomainError(ErrorCode.INVALID, f"{cmd.filename} is empty")
        if not await expert_is_live(self.host.store, cmd.tenant, cmd.expert_id):
            raise not_found(f"expert {cmd.expert_id}")
        doc_id = document_id_for(cmd.tenant, cmd.expert_id, cmd.object.sha256)
        await self._within_storage(cmd, doc_id)
        try:
            outcome = await DOCUMENT.execute(
                self.host.store, cmd.tenant, doc_id, lambda s: domain.decide_upload(s, cmd, doc_id)
            )
        except ConcurrencyError:  # the same bytes were registered a moment ago
            outcome = await DOCUMENT.execute(self.host.store, cmd.tenant, doc_id, lambda s: None)
        view = await self.queries.get(
            ingest.GetDocument(tenant=cmd.tenant, document_id=doc_id, after_seq=outcome.seq)
        )
        return ingest.UploadRegistered(
            document=view, duplicate=outcome.event is None, seq=outcome.seq
        )

    async def _within_storage(self, cmd: ingest.RegisterUpload, doc_id: str) -> None:
        """Refuse (413) new bytes that would take the tenant past its storage limit, and
        delete their original; the same bytes again store nothing new and pass."""
        limit = self.host.settings.max_storage_bytes_per_user
        if limit <= 0 or await self._is_live(cmd.tenant, doc_id):
            return
        used = await storage.used_bytes(self.host, cmd.tenant)
        if used + cmd.object.size <= limit:
            return
        if not await self._is_live(cmd.tenant, doc_id):  # an identical upload won meanwhile
            await storage.forget_original(self.host, cmd.tenant, cmd.object)
        raise storage.over_limit(cmd.filename, cmd.object.size, used, limit)

    async def _is_live(self, tenant: str, doc_id: str) -> bool:
        state, _ = await DOCUMENT.load(self.host.store, tenant, doc_id)
        return state.status in domain.LIVE

    async def delete(self, cmd: ingest.DeleteDocument) -> Accepted:
        outcome = await DOCUMENT.execute(
            self.host.store,
            cmd.tenant,
            cmd.document_id,
            lambda s: domain.decide_delete(s, cmd.document_id),
        )
        return Accepted(id=cmd.document_id, seq=outcome.seq)
