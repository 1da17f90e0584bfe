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

import numpy as np
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.knowledge import SearchHit
from runtime.lru import Lru
from services.knowledge.embedder import Embedder
from services.knowledge.fusion import fuse
from services.knowledge.navigation import is_navigation

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
# The any-term tier weighs each term by how rare it is among the expert's passages (the
# inverse document frequency of BM25): a question's words are not worth the same, and a
# word that most pages hold (the product's name, "settings") must not decide. A plain
# ts_rank counts every term alike, so a page holding several of the question's common words
# outranked the one page holding its rare word. How many passages hold a term (df) is
# counted among the candidates: every passage holding any term, for an expert with fewer
# than LOOSE_CANDIDATES such passages (exact), a sample above. A term weighs
# ln(1 + (N - df + 0.5) / (df + 0.5)), N the expert's size. The candidates are shortlisted
# by the sum of the weights of the terms they hold (one pass of term matches), and the
# shortlist is ordered by each held term's weight times its ts_rank (which grows, and
# saturates, with how often the term occurs). Only the winners' passages are read.
LOOSE_SQL = text(
    "WITH terms AS MATERIALIZED (SELECT DISTINCT lexeme, plainto_tsquery('simple', lexeme) AS term"
    "  FROM unnest(tsvector_to_array(to_tsvector('english', :q))) lexeme),"
    " hits AS MATERIALIZED (SELECT chunk_id, lexeme FROM ("
    "   SELECT chunk_id, tsv FROM knowledge.chunks, to_tsquery('english',"
    "    replace(plainto_tsquery('english', :q)::text, ' & ', ' | ')) query"
    "   WHERE tenant = :t AND expert_id = :e AND tsv @@ query LIMIT :loose_cap) candidates, terms"
    "  WHERE tsv @@ term),"
    " size AS MATERIALIZED (SELECT greatest(coalesce(sum(chunks), 0),"
    "  (SELECT count(DISTINCT chunk_id) FROM hits)) AS n FROM knowledge.documents"
    "  WHERE tenant = :t AND expert_id = :e AND status = 'ready'),"
    " weights AS MATERIALIZED (SELECT lexeme, term, idf FROM terms JOIN ("
    "  SELECT lexeme, ln(1 + (max(size.n) - count(*) + 0.5) / (count(*) + 0.5)) AS idf"
    "  FROM hits, size GROUP BY lexeme) counted USING (lexeme)),"
    " shortlist AS MATERIALIZED (SELECT chunk_id FROM hits JOIN weights USING (lexeme)"
    "  GROUP BY chunk_id ORDER BY sum(idf) DESC, chunk_id LIMIT :shortlist)"
    f" SELECT {PASSAGE} FROM shortlist JOIN knowledge.chunks c USING (chunk_id)"
    " WHERE c.tenant = :t"
    " ORDER BY (SELECT sum(idf * ts_rank(c.tsv, term)) FROM weights WHERE c.tsv @@ term) DESC,"
    " chunk_id LIMIT :n"
)
CANDIDATES = 2000
# The any-term tier weighs its candidates' terms, which costs more per candidate than the
# plain ts_rank it replaced: half as many candidates keep its time at or below what it was
# at 100,000 passages (benchmarks/search.py). An expert with fewer passages holding any of
# the question's terms (every manual measured in issue 19) sees no difference.
LOOSE_CANDIDATES = 1000


async def keyword_ranking(
    conn: AsyncConnection, tenant: str, expert_id: str, q: str, n: int
) -> list[Row]:
    """Up to `n` passages by keywords: all terms first, then any term."""
    scope = {
        "t": tenant,
        "e": expert_id,
        "n": n,
        "q": q,
        "cap": CANDIDATES,
        "loose_cap": LOOSE_CANDIDATES,
        "shortlist": 3 * n,
    }
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
        self._questions: Lru[str, np.ndarray] = Lru(CACHED_QUESTIONS)

    async def embed_question(self, q: str) -> np.ndarray:
        return await self._questions.get(q, lambda: self.embedder.embed_query(q))

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
        navigation = {c for c, r in rows.items() if is_navigation(r.body)}
        fused = fuse([[r.chunk_id for r in ranking] for ranking in rankings], k, last=navigation)
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
        ]
