"""Hybrid search over one expert's chunks: pgvector nearest neighbours (HNSW, cosine) and
Postgres full-text, fused by reciprocal rank."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.knowledge import SearchHit
from services.knowledge.fusion import fuse
from services.knowledge.projections import vector_literal

VECTOR_SQL = text(
    "SELECT chunk_id FROM knowledge.chunks WHERE tenant = :t AND expert_id = :e"
    " ORDER BY embedding <=> CAST(:v AS vector) LIMIT :n"
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


async def hybrid_search(
    conn: AsyncConnection, tenant: str, expert_id: str, q: str, vector, k: int
) -> list[SearchHit]:
    n = max(4 * k, 20)
    await conn.execute(text("SET LOCAL hnsw.ef_search = 100"))
    await conn.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    scope = {"t": tenant, "e": expert_id, "n": n}
    by_vector = [
        r[0] for r in await conn.execute(VECTOR_SQL, {**scope, "v": vector_literal(vector)})
    ]
    by_keyword = await keyword_ranking(conn, tenant, expert_id, q, n)
    fused = fuse([by_vector, by_keyword], k)
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
