"""Query handlers of the knowledge service."""

from __future__ import annotations

from contracts.base import DomainError, ErrorCode
from contracts.knowledge import GetIndexStatus, IndexStatuses, Search, SearchResults
from runtime.service import ServiceHost
from services.knowledge.embedder import Embedder
from services.knowledge.projections import index_statuses
from services.knowledge.search import hybrid_search

MAX_K = 50
MAX_QUERY = 2000


class KnowledgeHandlers:
    def __init__(self, host: ServiceHost, embedder: Embedder) -> None:
        self.host, self.embedder = host, embedder

    async def search(self, query: Search) -> SearchResults:
        q = query.q.strip()
        if not q:
            raise DomainError(ErrorCode.INVALID, "q must not be empty")
        if len(q) > MAX_QUERY:
            raise DomainError(ErrorCode.INVALID, f"q must be at most {MAX_QUERY} characters")
        if not 1 <= query.k <= MAX_K:
            raise DomainError(ErrorCode.INVALID, f"k must be between 1 and {MAX_K}, got {query.k}")
        await self.host.caught_up("KNOWLEDGE", query.after_seq)
        vector = await self.embedder.embed_query(q)
        async with self.host.engine.begin() as conn:
            hits = await hybrid_search(conn, query.tenant, query.expert_id, q, vector, query.k)
        return SearchResults(results=hits)

    async def status(self, query: GetIndexStatus) -> IndexStatuses:
        await self.host.caught_up("KNOWLEDGE", query.after_seq)
        async with self.host.engine.connect() as conn:
            return IndexStatuses(
                statuses=await index_statuses(conn, query.tenant, query.document_ids)
            )
