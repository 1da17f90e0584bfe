"""The ingest context: uploads, parsing and chunking of a person's documents."""

from __future__ import annotations

import msgspec

from contracts.base import Command, Event, Query, Reply

CONTEXT = "ingest"
STREAM = "INGEST"
AGGREGATE = "document"

DOCUMENTS_BUCKET = "documents"
DERIVED_BUCKET = "derived"  # chunk lists and embedding matrices, one object per document revision

MEDIA_TYPES = ("application/pdf", "text/plain", "text/markdown")


class Chunk(msgspec.Struct, frozen=True, kw_only=True):
    """One passage of a document; `page` is the 1-based physical page where it starts."""

    index: int
    page: int
    text: str


class ObjectRef(msgspec.Struct, frozen=True, kw_only=True):
    bucket: str
    name: str
    sha256: str
    size: int


# ---- events --------------------------------------------------------------------------------


class DocumentUploaded(Event, frozen=True, tag="ingest.DocumentUploaded"):
    document_id: str
    expert_id: str
    revision: int
    filename: str
    media_type: str
    sha256: str
    size: int
    object: ObjectRef


class DocumentParsingStarted(Event, frozen=True, tag="ingest.DocumentParsingStarted"):
    document_id: str
    revision: int


class DocumentChunked(Event, frozen=True, tag="ingest.DocumentChunked"):
    document_id: str
    expert_id: str
    revision: int
    filename: str
    pages: int
    chunk_count: int
    chunks: ObjectRef
    chunk_size: int
    chunk_overlap: int


class DocumentRejected(Event, frozen=True, tag="ingest.DocumentRejected"):
    document_id: str
    revision: int
    code: str
    reason: str


class DocumentDeleted(Event, frozen=True, tag="ingest.DocumentDeleted"):
    document_id: str
    expert_id: str
    revision: int


IngestEvent = (
    DocumentUploaded | DocumentParsingStarted | DocumentChunked | DocumentRejected | DocumentDeleted
)


# ---- commands ------------------------------------------------------------------------------


class RegisterUpload(Command, frozen=True, tag="ingest.RegisterUpload"):
    """The bytes are already in the documents bucket; make them a document of the expert."""

    expert_id: str
    filename: str
    media_type: str
    object: ObjectRef


class DeleteDocument(Command, frozen=True, tag="ingest.DeleteDocument"):
    document_id: str


# ---- queries -------------------------------------------------------------------------------


class GetDocument(Query, frozen=True, tag="ingest.GetDocument"):
    document_id: str


class ListDocuments(Query, frozen=True, tag="ingest.ListDocuments"):
    expert_id: str


class DocumentView(Reply, frozen=True, kw_only=True):
    id: str
    expert_id: str
    filename: str
    status: str  # uploaded | parsing | chunked | rejected (knowledge adds embedding | ready)
    revision: int
    pages: int = 0
    chunks: int = 0
    sha256: str
    size: int = 0
    media_type: str = ""
    reason: str | None = None
    created_at: str = ""
    updated_at: str = ""


class UploadRegistered(Reply, frozen=True, kw_only=True):
    document: DocumentView
    duplicate: bool = False
    seq: int = 0


class DocumentList(Reply, frozen=True, kw_only=True):
    documents: list[DocumentView]
