"""The ingest context: uploads, parsing and chunking of a person's documents."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import Meta

from contracts.base import Command, Event, ObjectRef, Query, Reply
from contracts.rules import Count, Sha256, Token, line, prose

CONTEXT = "ingest"
STREAM = "INGEST"
AGGREGATE = "document"

DOCUMENTS_BUCKET = "documents"
DERIVED_BUCKET = "derived"  # chunk lists and embedding matrices, one object per document revision

MediaType = Literal["application/pdf", "text/plain", "text/markdown"]
MEDIA_TYPES: tuple[str, ...] = MediaType.__args__
FileName = line(255, min_length=1)
Reason = prose(4000)
ChunkText = prose(1_000_000)
MAX_DOCUMENTS = 10_000  # ids in one status query
PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000  # documents in one page of a list
Cursor = line(200)  # where the previous page ended: "<created_at>|<id>", from DocumentList.next


class Chunk(msgspec.Struct, frozen=True, kw_only=True):
    """One passage of a document; `page` is the 1-based physical page where it starts."""

    index: Count
    page: Count
    text: ChunkText


# ---- events --------------------------------------------------------------------------------


class RevisionStep(Event, frozen=True, tag=False):
    """A step in processing one revision of a document (the knowledge context's as well):
    the revision says which upload of the document the step is about, so a step of an
    older revision is told apart from the current one's."""

    document_id: Token
    revision: Count


class DocumentRevision(Event, frozen=True, tag=False):
    """A revision of a document entering or leaving the expert's knowledge (uploaded,
    chunked, indexed, deleted): these carry the expert too, which every view of the
    expert's documents is keyed by."""

    document_id: Token
    expert_id: Token
    revision: Count


class NamedRevision(DocumentRevision, frozen=True, tag=False):
    """A revision with its file name, which the expert's document lists show: on the events
    that make a revision's state (uploaded, chunked, indexed), so no view has to look the
    name up. Sealed on the log: a file name is the person's own words."""

    personal: ClassVar[tuple[str, ...]] = ("filename",)

    filename: FileName


class DocumentUploaded(NamedRevision, frozen=True, tag="ingest.DocumentUploaded"):
    media_type: MediaType
    sha256: Sha256
    size: Count
    object: ObjectRef


class DocumentParsingStarted(RevisionStep, frozen=True, tag="ingest.DocumentParsingStarted"):
    pass


class DocumentChunked(NamedRevision, frozen=True, tag="ingest.DocumentChunked"):
    pages: Count
    chunk_count: Count
    chunks: ObjectRef
    chunk_size: Count
    chunk_overlap: Count


class DocumentRejected(RevisionStep, frozen=True, tag="ingest.DocumentRejected"):
    personal: ClassVar[tuple[str, ...]] = ("reason",)
    code: Token
    reason: Reason


class DocumentDeleted(DocumentRevision, frozen=True, tag="ingest.DocumentDeleted"):
    pass


IngestEvent = (
    DocumentUploaded | DocumentParsingStarted | DocumentChunked | DocumentRejected | DocumentDeleted
)


# ---- commands ------------------------------------------------------------------------------


class RegisterUpload(Command, frozen=True, tag="ingest.RegisterUpload"):
    """The bytes are already in the documents bucket; make them a document of the expert."""

    subject = "cmd.ingest.register_upload"
    reply = "UploadRegistered"

    expert_id: Token
    filename: FileName
    media_type: MediaType
    object: ObjectRef


class DeleteDocument(Command, frozen=True, tag="ingest.DeleteDocument"):
    subject = "cmd.ingest.delete"

    document_id: Token


# ---- queries -------------------------------------------------------------------------------


class GetDocument(Query, frozen=True, tag="ingest.GetDocument"):
    subject = "qry.ingest.get"
    reply = "DocumentView"

    document_id: Token


class ListDocuments(Query, frozen=True, tag="ingest.ListDocuments"):
    """One page of an expert's documents, oldest first; `after` is the previous page's
    `next`."""

    subject = "qry.ingest.list"
    reply = "DocumentList"

    expert_id: Token
    limit: Annotated[int, Meta(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE
    after: Cursor | None = None


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
    next: str | None = None  # the cursor of the next page; None on the last page
