"""A small expert in a big index still gets its nearest passages.

HNSW's filtered scan gives up after `hnsw.max_scan_tuples` (20,000) tuples: when 100,000
passages of another expert lie nearer to the question than all 50 of this expert's, the
index alone finds none of them. Whether Postgres walks the HNSW index or the expert's own
b-tree depends on what its statistics believe about the expert; the search does not leave
that to chance and scans a small expert exactly. This test holds the outcome: 50 passages
among 100,000 nearer ones, and the nearest passages found are the expert's own.
"""

from __future__ import annotations

import asyncpg
import numpy as np
import pytest
from pgvector.asyncpg import register_vector
from sqlalchemy.engine import make_url

from services.knowledge.projections import CHUNK_COLUMNS
from services.knowledge.search import vector_ranking
from tests.support.flows import create_expert, search, upload, wait_settled

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(600),
]  # 100k passages: setup and teardown take minutes

BIG = 100_000
OTHER = "other-expert-of-the-same-tenant"
SMALL_PASSAGES = 50
QUESTION = "How do lighthouse keepers keep the lamp burning through a storm?"


def small_document() -> bytes:
    lines = [
        f"Note {i}: the keeper trims the wick and winds the clockwork of lamp {i} at dusk."
        for i in range(SMALL_PASSAGES * 4)
    ]
    return "\n\n".join(lines).encode()


async def asyncpg_connect(database_url: str) -> asyncpg.Connection:
    url = make_url(database_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    await register_vector(conn)
    return conn


async def indexes(conn: asyncpg.Connection, definition: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'knowledge'"
        " AND tablename = 'chunks' AND indexdef LIKE $1",
        definition,
    )


@pytest.fixture(scope="module")
async def big_index(servers, services, embedder):
    """100,000 passages of another expert, each nearer to the question than any passage of
    the small expert (the question's own vector plus a little noise), HNSW built over all."""
    question = embedder.encode([QUESTION])[0]
    rng = np.random.default_rng(5)
    vectors = question + rng.normal(0.0, 0.01, (BIG, question.shape[0])).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    conn = await asyncpg_connect(servers.database_url)
    hnsw = await indexes(conn, "%USING hnsw%")
    try:
        for row in hnsw:
            await conn.execute(f'DROP INDEX knowledge."{row["indexname"]}"')
        records = [
            (
                "local",
                f"big-{i}",
                OTHER,
                f"big-doc-{i // 500}",
                1,
                "big.pdf",
                1,
                i % 500,
                "weather",
                vectors[i],
            )
            for i in range(BIG)
        ]
        await conn.copy_records_to_table(
            "chunks", schema_name="knowledge", columns=CHUNK_COLUMNS, records=records
        )
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for row in hnsw:
            await conn.execute(row["indexdef"])
        await conn.execute("ANALYZE knowledge.chunks")
        yield question
    finally:
        # Vacuuming 100,000 deleted passages out of an HNSW graph mends it node by node (most
        # of a minute); without the graph the vacuum takes a second, and the index is built
        # again over what is left, as the other tests of the session had it.
        for row in hnsw:
            await conn.execute(f'DROP INDEX IF EXISTS knowledge."{row["indexname"]}"')
        await conn.execute(
            "DELETE FROM knowledge.chunks WHERE tenant = 'local' AND expert_id = $1", OTHER
        )
        await conn.execute("VACUUM ANALYZE knowledge.chunks")
        for row in hnsw:
            await conn.execute(row["indexdef"])
        await conn.close()


async def test_a_small_expert_among_100k_passages_gets_vector_hits(services, nc, big_index):
    expert = await create_expert(nc, "Small keeper")
    reg = await upload(nc, expert, "keeper.txt", small_document(), "text/plain")
    status, doc = await wait_settled(nc, reg.document.id, timeout=120)
    assert status == "ready" and 0 < doc.chunks <= SMALL_PASSAGES, (status, doc.chunks)

    host = services["knowledge"]
    async with host.engine.begin() as conn:
        nearest = await vector_ranking(conn, "local", expert, big_index, 20)
    assert len(nearest) == min(20, doc.chunks)
    assert all(row.chunk_id.startswith(reg.document.id) for row in nearest)

    hits = (await search(nc, expert, QUESTION)).results
    assert hits and all(hit.document_id == reg.document.id for hit in hits)
