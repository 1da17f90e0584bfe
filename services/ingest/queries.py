"""Query handlers of the ingest service: one document, an expert's documents."""

from __future__ import annotations

from contracts.base import DomainError, ErrorCode
from contracts.ingest import DocumentList, DocumentView, GetDocument, ListDocuments
from runtime.service import Hosted
from services.ingest import views


class IngestQueries(Hosted):
    async def get(self, query: GetDocument) -> DocumentView:
        return await self.host.read_by_id(query, views.get_document, query.document_id, "document")

    async def list(self, query: ListDocuments) -> DocumentList:
        after = None
        if query.after is not None:
            after = views.parse_cursor(query.after)
            if after is None:
                raise DomainError(
                    ErrorCode.INVALID, "after must be the `next` cursor of a previous page"
                )
        return await self.host.read(
            query,
            lambda conn: views.list_documents(
                conn, query.tenant, query.expert_id, limit=query.limit, after=after
            ),
        )
