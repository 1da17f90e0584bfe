"""The knowledge context: embeddings and hybrid (vector + keyword) search."""

from __future__ import annotations

from typing import Annotated, ClassVar

from msgspec import Meta

from contracts.base import ObjectRef, Query, Reply
from contracts.ingest import (
    MAX_DOCUMENTS,
    DocumentRevision,
    NamedRevision,
    Reason,
    RevisionStep,
)
from contracts.rules import Count, Token, items, line, prose

MAX_QUERY = 2000
MAX_K = 50
MAX_EMBED_TEXTS = 256
MAX_EMBED_TEXT = 20_000
ModelName = line(200, min_length=1)

CONTEXT = "knowledge"
STREAM = "KNOWLEDGE"
AGGREGATE = "document"


# ---- events --------------------------------------------------------------------------------


class EmbeddingStarted(DocumentRevision, frozen=True, tag="knowledge.EmbeddingStarted"):
    chunk_count: Count


class DocumentIndexed(NamedRevision, frozen=True, tag="knowledge.DocumentIndexed"):
    chunk_count: Count
    chunks: ObjectRef
    embeddings: ObjectRef  # float32 row-major matrix, chunk_count x dimensions
    model: ModelName
    dimensions: Count


class IndexingFailed(RevisionStep, frozen=True, tag="knowledge.IndexingFailed"):
    personal: ClassVar[tuple[str, ...]] = ("reason",)
    reason: Reason


class DocumentUnindexed(RevisionStep, frozen=True, tag="knowledge.DocumentUnindexed"):
    pass


KnowledgeEvent = EmbeddingStarted | DocumentIndexed | IndexingFailed | DocumentUnindexed


# ---- queries -------------------------------------------------------------------------------


class Search(Query, frozen=True, tag="knowledge.Search"):
    subject = "qry.knowledge.search"
    reply = "SearchResults"

    expert_id: Token
    q: line(MAX_QUERY, min_length=1)
    k: Annotated[int, Meta(ge=1, le=MAX_K)] = 5


class SearchHit(Reply, frozen=True, kw_only=True):
    document_id: str
    filename: str
    page: int
    chunk_id: str
    text: str
    score: float


class SearchResults(Reply, frozen=True, kw_only=True):
    results: list[SearchHit]


class GetIndexStatus(Query, frozen=True, tag="knowledge.GetIndexStatus"):
    subject = "qry.knowledge.status"
    reply = "IndexStatuses"

    document_ids: items(Token, MAX_DOCUMENTS)


class IndexStatus(Reply, frozen=True, kw_only=True):
    document_id: str
    revision: int
    status: str  # embedding | ready | failed | removed
    chunks: int = 0
    reason: str | None = None


class IndexStatuses(Reply, frozen=True, kw_only=True):
    statuses: list[IndexStatus]


class Embed(Query, frozen=True, tag="knowledge.Embed"):
    """Embed texts with the knowledge base's own model (the expert service scores answers
    by how close their sentences lie to the passages they cite)."""

    subject = "qry.knowledge.embed"
    reply = "Embeddings"

    texts: items(prose(MAX_EMBED_TEXT), MAX_EMBED_TEXTS)


class Embeddings(Reply, frozen=True, kw_only=True):
    model: str
    dimensions: int
    vectors: bytes  # float32, row-major, len(texts) x dimensions, L2-normalised


class ListPassages(Query, frozen=True, tag="knowledge.ListPassages"):
    """An expert's passages in document order, a page at a time (`after`: the `next` of the
    previous page)."""

    subject = "qry.knowledge.passages"
    reply = "PassagePage"

    expert_id: Token
    limit: Annotated[int, Meta(ge=1, le=1000)] = 200
    after: line(300) | None = None


class Passage(Reply, frozen=True, kw_only=True):
    document_id: str
    filename: str
    page: int
    chunk_id: str
    text: str


class PassagePage(Reply, frozen=True, kw_only=True):
    passages: list[Passage]
    next: str | None = None
