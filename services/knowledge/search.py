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
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.knowledge import SearchHit
from services.knowledge.embedder import Embedder
from services.knowledge.fusion import fuse

EXACT_SCAN_MAX = 20_000  # passages; hnsw.max_scan_tuples is 20,000 by default
CACHED_QUESTIONS = 1024

# What a hit shows: every ranking returns it, so the winners need no second trip.
PASSAGE = "chunk_id, document_id, filename, page, body"
# The expert's size, with the HNSW settings for this transaction, in one round trip.
SIZE_SQL = text(
    "SELECT set_config('hnsw.ef_search', '100', true),"
    " set_config('hnsw.iterative_scan', 'relaxed_order', true),"
    " (SELECT coalesce(sum(chunks), 0) FROM knowledge.documents"
    "  WHERE tenant = :t AND expert_id = :e AND status = 'ready')"
)
HNSW_SQL = text(
    f"SELECT {PASSAGE} FROM knowledge.chunks WHERE tenant = :t AND expert_id = :e"
    " ORDER BY embedding <=> CAST(:v AS vector) LIMIT :n"
)
# MATERIALIZED keeps the planner from ordering through the HNSW index: every passage of the
# expert (found by its b-tree index) is compared with the question.
EXACT_SQL = text(
    "WITH mine AS MATERIALIZED (SELECT chunk_id, embedding FROM knowledge.chunks"
    "  WHERE tenant = :t AND expert_id = :e),"
    " nearest AS (SELECT chunk_id FROM mine ORDER BY embedding <=> CAST(:v AS vector) LIMIT :n)"
    f" SELECT {PASSAGE} FROM nearest JOIN knowledge.chunks USING (chunk_id)"
    " WHERE tenant = :t ORDER BY embedding <=> CAST(:v AS vector)"
)
# Keywords in two tiers. Passages holding every term of the question come first; if they
# are too few, passages holding any term fill up. Ranking every matching passage of a large
# expert costs tens to hundreds of ms when the terms are common, so each tier ranks only the
# first CANDIDATES passages the GIN index finds: the vector side already covers meaning.
STRICT_SQL = text(
    f"SELECT {PASSAGE} FROM ("
    f"  SELECT {PASSAGE}, tsv, query FROM knowledge.chunks, plainto_tsquery('english', :q) query"
    "  WHERE tenant = :t AND expert_id = :e AND tsv @@ query LIMIT :cap) candidates"
    " ORDER BY ts_rank_cd(tsv, query) DESC, chunk_id LIMIT :n"
)
LOOSE_SQL = text(
    f"SELECT {PASSAGE} FROM ("
    f"  SELECT {PASSAGE}, tsv, query FROM knowledge.chunks,"
    "   to_tsquery('english', replace(plainto_tsquery('english', :q)::text, ' & ', ' | ')) query"
    "  WHERE tenant = :t AND expert_id = :e AND tsv @@ query LIMIT :cap) candidates"
    " ORDER BY ts_rank(tsv, query) DESC, chunk_id LIMIT :n"
)
CANDIDATES = 2000


async def keyword_ranking(
    conn: AsyncConnection, tenant: str, expert_id: str, q: str, n: int
) -> list[Row]:
    """Up to `n` passages by keywords: all terms first, then any term."""
    scope = {"t": tenant, "e": expert_id, "n": n, "q": q, "cap": CANDIDATES}
    ranked = list(await conn.execute(STRICT_SQL, scope))
    if len(ranked) < n:
        seen = {r.chunk_id for r in ranked}
        loose = await conn.execute(LOOSE_SQL, scope)
        ranked += [r for r in loose if r.chunk_id not in seen][: n - len(ranked)]
    return ranked


def vector_literal(row: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in row.tolist()) + "]"


async def vector_ranking(
    conn: AsyncConnection, tenant: str, expert_id: str, vector: np.ndarray, n: int
) -> list[Row]:
    """Up to `n` passages nearest to `vector` (in a transaction): exact for a small expert,
    else HNSW."""
    scope = {"t": tenant, "e": expert_id, "n": n, "v": vector_literal(vector)}
    size = (await conn.execute(SIZE_SQL, scope)).one()[2]
    return list(await conn.execute(EXACT_SQL if size <= EXACT_SCAN_MAX else HNSW_SQL, scope))


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

        async def by_vector() -> list[Row]:
            vector = await self.embed_question(q)
            async with self.engine.begin() as conn:
                return await vector_ranking(conn, tenant, expert_id, vector, n)

        async def by_keyword() -> list[Row]:
            async with self.engine.connect() as conn:
                return await keyword_ranking(conn, tenant, expert_id, q, n)

        rankings = await asyncio.gather(by_vector(), by_keyword())
        rows = {r.chunk_id: r for ranking in rankings for r in ranking}
        return [
            SearchHit(
                document_id=rows[c].document_id,
                filename=rows[c].filename,
                page=rows[c].page,
                chunk_id=c,
                text=rows[c].body,
                score=score,
            )
            for c, score in fuse([[r.chunk_id for r in ranking] for ranking in rankings], k)
        ]
