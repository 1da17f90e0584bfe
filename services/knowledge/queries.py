"""Query handlers of the knowledge service: search, index status, passages, embeddings."""

from __future__ import annotations

from contracts import knowledge
from contracts.base import DomainError, ErrorCode
from runtime.service import ServiceHost
from services.knowledge import views
from services.knowledge.embedder import Embedder
from services.knowledge.search import Searcher


class KnowledgeQueries:
    def __init__(self, host: ServiceHost, embedder: Embedder) -> None:
        self.host, self.embedder = host, embedder
        self.searcher = Searcher(host.engine, embedder)

    async def search(self, query: knowledge.Search) -> knowledge.SearchResults:
        q = " ".join(query.q.split())  # the contract bounds its length and characters
        if not q:
            raise DomainError(ErrorCode.INVALID, "q must not be empty: say what to look for")
        await self.host.caught_up(self.host.stream, query.after_seq)
        hits = await self.searcher.search(query.tenant, query.expert_id, q, query.k)
        return knowledge.SearchResults(results=hits)

    async def status(self, query: knowledge.GetIndexStatus) -> knowledge.IndexStatuses:
        return await self.host.read(
            query,
            lambda conn: views.index_statuses(conn, query.tenant, query.document_ids),
        )

    async def passages(self, query: knowledge.ListPassages) -> knowledge.PassagePage:
        return await self.host.read(query, lambda conn: views.passages_page(conn, query))

    async def embed(self, query: knowledge.Embed) -> knowledge.Embeddings:
        """Embeddings by the model that built the index (the scorer compares with them)."""
        matrix = await self.embedder.embed(list(query.texts))
        return knowledge.Embeddings(
            model=self.embedder.name,
            dimensions=self.embedder.dimensions,
            vectors=matrix.astype("float32").tobytes(),
        )
