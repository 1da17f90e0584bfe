"""The knowledge context: embeddings and hybrid (vector + keyword) search."""

from __future__ import annotations

from contracts.base import Event, Query, Reply
from contracts.ingest import ObjectRef

CONTEXT = "knowledge"
STREAM = "KNOWLEDGE"
AGGREGATE = "document"


# ---- events --------------------------------------------------------------------------------


class EmbeddingStarted(Event, frozen=True, tag="knowledge.EmbeddingStarted"):
    document_id: str
    expert_id: str
    revision: int
    chunk_count: int


class DocumentIndexed(Event, frozen=True, tag="knowledge.DocumentIndexed"):
    document_id: str
    expert_id: str
    revision: int
    filename: str
    chunk_count: int
    chunks: ObjectRef
    embeddings: ObjectRef  # float32 row-major matrix, chunk_count x dimensions
    model: str
    dimensions: int


class IndexingFailed(Event, frozen=True, tag="knowledge.IndexingFailed"):
    document_id: str
    revision: int
    reason: str


class DocumentUnindexed(Event, frozen=True, tag="knowledge.DocumentUnindexed"):
    document_id: str
    revision: int


KnowledgeEvent = EmbeddingStarted | DocumentIndexed | IndexingFailed | DocumentUnindexed


# ---- queries -------------------------------------------------------------------------------


class Search(Query, frozen=True, tag="knowledge.Search"):
    expert_id: str
    q: str
    k: int = 5


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
    document_ids: list[str]


class IndexStatus(Reply, frozen=True, kw_only=True):
    document_id: str
    revision: int
    status: str  # embedding | ready | failed | removed
    chunks: int = 0
    reason: str | None = None


class IndexStatuses(Reply, frozen=True, kw_only=True):
    statuses: list[IndexStatus]
