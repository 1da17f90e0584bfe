"""Hybrid search over one expert's chunks: pgvector nearest neighbours (cosine) and
Postgres full-text, fused by reciprocal rank.

The two rankings run at once on two connections: the keyword ranking while the question is
embedded and its neighbours found. Question embeddings are cached (people repeat questions).

Nearest neighbours come from the HNSW index, except for an expert small enough to scan
exactly: HNSW's filtered (iterative) scan gives up after `hnsw.max_scan_tuples`, so an
expert of 50 passages in an index of 100,000 could get no vector hit at all. An exact scan
of up to EXACT_SCAN_MAX passages costs a few milliseconds.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.knowledge import SearchHit
from services.knowledge.embedder import Embedder
from services.knowledge.fusion import fuse

EXACT_SCAN_MAX = 20_000  # passages; hnsw.max_scan_tuples is 20,000 by default
CACHED_QUESTIONS = 1024

SIZE_SQL = text(
    "SELECT coalesce(sum(chunks), 0) FROM knowledge.documents"
    " WHERE tenant = :t AND expert_id = :e AND status = 'ready'"
)
HNSW_SQL = text(
    "SELECT chunk_id FROM knowledge.chunks WHERE tenant = :t AND expert_id = :e"
    " ORDER BY embedding <=> CAST(:v AS vector) LIMIT :n"
)
# MATERIALIZED keeps the planner from ordering through the HNSW index: every passage of the
# expert (found by its b-tree index) is compared with the question.
EXACT_SQL = text(
    "WITH mine AS MATERIALIZED (SELECT chunk_id, embedding FROM knowledge.chunks"
    "  WHERE tenant = :t AND expert_id = :e)"
    " SELECT chunk_id FROM mine ORDER BY embedding <=> CAST(:v AS vector) LIMIT :n"
)
# Keywords in two tiers. Passages holding every term of the question come first (cheap: the
# GIN index finds them exactly). If they are too few, passages holding any term fill up;
# ranking every such passage of a large expert costs hundreds of ms, so only the first
# LOOSE_CANDIDATES of them are ranked — the vector side already covers meaning.
STRICT_SQL = text(
    "SELECT chunk_id FROM knowledge.chunks, plainto_tsquery('english', :q) query"
    " WHERE tenant = :t AND expert_id = :e AND tsv @@ query"
    " ORDER BY ts_rank_cd(tsv, query) DESC, chunk_id LIMIT :n"
)
LOOSE_SQL = text(
    "SELECT chunk_id FROM ("
    "  SELECT chunk_id, tsv, query FROM knowledge.chunks,"
    "   to_tsquery('english', replace(plainto_tsquery('english', :q)::text, ' & ', ' | ')) query"
    "  WHERE tenant = :t AND expert_id = :e AND tsv @@ query LIMIT :cap) candidates"
    " ORDER BY ts_rank(tsv, query) DESC, chunk_id LIMIT :n"
)
LOOSE_CANDIDATES = 2000
FETCH_SQL = text(
    "SELECT chunk_id, document_id, filename, page, body FROM knowledge.chunks"
    " WHERE tenant = :t AND chunk_id = ANY(:ids)"
)


async def keyword_ranking(
    conn: AsyncConnection, tenant: str, expert_id: str, q: str, n: int
) -> list[str]:
    """Up to `n` chunk ids by keywords: all terms first, then any term."""
    scope = {"t": tenant, "e": expert_id, "n": n, "q": q}
    ranked = [r[0] for r in await conn.execute(STRICT_SQL, scope)]
    if len(ranked) < n:
        seen = set(ranked)
        loose = await conn.execute(LOOSE_SQL, {**scope, "cap": LOOSE_CANDIDATES})
        ranked += [r[0] for r in loose if r[0] not in seen][: n - len(ranked)]
    return ranked


def vector_literal(row: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in row.tolist()) + "]"


async def vector_ranking(
    conn: AsyncConnection, tenant: str, expert_id: str, vector: np.ndarray, n: int
) -> list[str]:
    """Up to `n` chunk ids nearest to `vector`: exact for a small expert, else HNSW."""
    scope = {"t": tenant, "e": expert_id, "n": n, "v": vector_literal(vector)}
    size = (await conn.execute(SIZE_SQL, scope)).scalar_one()
    if size <= EXACT_SCAN_MAX:
        return [r[0] for r in await conn.execute(EXACT_SQL, scope)]
    await conn.execute(text("SET LOCAL hnsw.ef_search = 100"))
    await conn.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    return [r[0] for r in await conn.execute(HNSW_SQL, scope)]


class Searcher:
    """The search of one service process: its engine, its embedder, its question cache."""

    def __init__(self, engine: AsyncEngine, embedder: Embedder) -> None:
        self.engine, self.embedder = engine, embedder
        self._questions: OrderedDict[str, np.ndarray] = OrderedDict()

    async def embed_question(self, q: str) -> np.ndarray:
        vector = self._questions.get(q)
        if vector is None:
            vector = await self.embedder.embed_query(q)
            self._questions[q] = vector
            if len(self._questions) > CACHED_QUESTIONS:
                self._questions.popitem(last=False)
        else:
            self._questions.move_to_end(q)
        return vector

    async def search(self, tenant: str, expert_id: str, q: str, k: int) -> list[SearchHit]:
        n = max(4 * k, 20)

        async def by_vector() -> list[str]:
            vector = await self.embed_question(q)
            async with self.engine.begin() as conn:
                return await vector_ranking(conn, tenant, expert_id, vector, n)

        async def by_keyword() -> list[str]:
            async with self.engine.connect() as conn:
                return await keyword_ranking(conn, tenant, expert_id, q, n)

        rankings = await asyncio.gather(by_vector(), by_keyword())
        async with self.engine.connect() as conn:
            return await passages(conn, tenant, fuse(rankings, k))


async def passages(
    conn: AsyncConnection, tenant: str, fused: list[tuple[str, float]]
) -> list[SearchHit]:
    rows = {
        r.chunk_id: r
        for r in await conn.execute(FETCH_SQL, {"t": tenant, "ids": [c for c, _ in fused]})
    }
    return [
        SearchHit(
            document_id=rows[c].document_id,
            filename=rows[c].filename,
            page=rows[c].page,
            chunk_id=c,
            text=rows[c].body,
            score=score,
        )
        for c, score in fused
        if c in rows
    ]
