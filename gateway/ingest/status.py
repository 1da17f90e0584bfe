"""The document status a person sees, merged from the ingest and knowledge read models.

Ingest knows a document up to `chunked`; from there on the knowledge index decides.
Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from contracts.ingest import DocumentView
from contracts.knowledge import IndexStatus
from gateway.http.fields import fields_from
from gateway.ingest.schemas import DocumentOut

STATUSES = ("uploaded", "parsing", "embedding", "ready", "rejected")
FINAL_STATUSES = frozenset({"ready", "rejected"})
INDEX_FAILED_REASON = "Simtune could not index the text of this file."


def merge_status(doc: DocumentView, index: IndexStatus | None) -> tuple[str, str | None]:
    """Return `(status, reason)` for one document.

    Ingest's own status counts, except when it says `chunked`: then the knowledge index of
    the same document AND revision decides (`embedding`, `ready`, or `failed`, shown as
    `rejected` with its reason). No index status for that revision yet means `embedding`.
    """
    if doc.status != "chunked":
        return doc.status, doc.reason if doc.status == "rejected" else None
    if index is None or index.document_id != doc.id or index.revision != doc.revision:
        return "embedding", None
    if index.status == "ready":
        return "ready", None
    if index.status == "failed":
        return "rejected", index.reason or INDEX_FAILED_REASON
    return "embedding", None


def needs_index_status(docs: Iterable[DocumentView]) -> list[str]:
    """The ids whose status the knowledge index decides (ingest says `chunked`)."""
    return sorted({doc.id for doc in docs if doc.status == "chunked"})


def merge_documents(
    docs: Iterable[DocumentView], statuses: Iterable[IndexStatus]
) -> list[DocumentOut]:
    """Each document with its merged status, matched to the index by id and revision."""
    by_key = {(s.document_id, s.revision): s for s in statuses}
    return [to_out(doc, by_key.get((doc.id, doc.revision))) for doc in docs]


def to_out(doc: DocumentView, index: IndexStatus | None) -> DocumentOut:
    status, reason = merge_status(doc, index)
    return fields_from(DocumentOut, doc, status=status, reason=reason)
