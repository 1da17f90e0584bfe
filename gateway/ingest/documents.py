"""Documents as a person sees them: ingest's view with the status the knowledge index
decides past chunking (`status.merge_documents`), a page at a time, and a deletion that
returns once the expert's list no longer has the document.

`after_ingest` / `after_knowledge` are read-your-writes positions in each stream (the
console's live table passes the events it was told about).
"""

from __future__ import annotations

from contracts.ingest import (
    PAGE_SIZE,
    DeleteDocument,
    DocumentView,
    GetDocument,
    ListDocuments,
)
from contracts.knowledge import GetIndexStatus
from gateway.backend import Backend
from gateway.ingest.schemas import DocumentOut
from gateway.ingest.status import merge_documents, needs_index_status


async def merged(
    backend: Backend, docs: list[DocumentView], *, after_knowledge: int = 0
) -> list[DocumentOut]:
    """Documents with the status a person sees (the knowledge index decides past chunking)."""
    ids = needs_index_status(docs)
    statuses = []
    if ids:
        query = GetIndexStatus(document_ids=ids, after_seq=after_knowledge)
        statuses = (await backend.ask(query)).statuses
    return merge_documents(docs, statuses)


async def documents_page(
    backend: Backend,
    expert_id: str,
    *,
    limit: int = PAGE_SIZE,
    after: str | None = None,
    after_ingest: int = 0,
    after_knowledge: int = 0,
) -> tuple[list[DocumentOut], str | None]:
    """One page of the expert's documents, oldest first, and the next page's cursor."""
    query = ListDocuments(expert_id=expert_id, limit=limit, after=after, after_seq=after_ingest)
    reply = await backend.ask(query)
    return await merged(backend, reply.documents, after_knowledge=after_knowledge), reply.next


async def get_document(backend: Backend, document_id: str) -> DocumentOut:
    doc = await backend.ask(GetDocument(document_id=document_id))
    return (await merged(backend, [doc]))[0]


async def delete_document(backend: Backend, document_id: str) -> DocumentOut:
    """The document as it was; once this returns, the expert's list no longer has it."""
    doc = await get_document(backend, document_id)
    then = ListDocuments(expert_id=doc.expert_id)
    await backend.send(DeleteDocument(document_id=document_id), then=then)
    return doc
