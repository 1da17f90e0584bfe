"""Search: latency of `qry.knowledge.search` beside a raw pgvector top-k, over 100k chunks.

Data: 100,000 chunks for the measured expert and 20,000 for another expert of the same
tenant (so the tenant/expert filter matters), made by `benchmarks.searchdata` (synthetic
vectors mixed from real sentence embeddings, see there) and COPYed into the table the
knowledge service created; the load and the index builds are timed too.

Per query (200 real question strings, k=5), each of these is timed, in alternating order:
  service  the full service path over NATS: query embedding + vector + keyword + fusion
  raw      the same tenant/expert-filtered `ORDER BY embedding <=> $1 LIMIT 5` sent straight
           to pgvector with asyncpg, the query vector precomputed, same HNSW settings
           (ef_search 100, relaxed iterative scan) as the service
  embed    the query embedding alone (`Embedder.embed_query`)
  keyword  the service's own keyword ranking (`search.keyword_ranking`) alone, on a SQLAlchemy
           connection like the service's (so it follows the product's SQL as it changes)
Recall@5 of the HNSW top-5 against an exact scan (`enable_indexscan = off`) on 50 queries.
"""

from __future__ import annotations

import asyncio
import random
import time

import asyncpg
from pgvector.asyncpg import register_vector

from benchmarks import corpus
from benchmarks.common import (
    Timer,
    begin,
    embedded_stack,
    percentile,
    print_table,
    record,
)
from benchmarks.searchdata import BASE, ChunkMaker, base_sentences, bulk_load
from contracts.knowledge import Search
from runtime.db import make_engine
from runtime.rpc import ask
from services.knowledge.embedder import Embedder
from services.knowledge.search import keyword_ranking
from tests.support.inprocess import start_service
from tests.support.servers import admin_connect

TENANT, EXPERT, OTHER = "local", "bench-expert", "bench-other-expert"
CHUNKS, OTHER_CHUNKS = 100_000, 20_000
QUERIES, RECALL_QUERIES, WARMUP, K = 200, 50, 10, 5

RAW_SQL = (
    "SELECT chunk_id FROM knowledge.chunks WHERE tenant = $1 AND expert_id = $2"
    " ORDER BY embedding <=> $3 LIMIT $4"
)


def questions(n: int, seed: int = 23) -> list[str]:
    rng = random.Random(seed)
    return [corpus.question(corpus.TOPICS[i % len(corpus.TOPICS)], rng) for i in range(n)]


async def timed(coro) -> tuple[float, object]:
    start = time.perf_counter()
    result = await coro
    return time.perf_counter() - start, result


async def measure(nc, conn, sqla, embedder: Embedder, qs: list[str], vectors) -> dict:
    n = max(4 * K, 20)  # what hybrid_search asks for
    steps = {
        "service": lambda q, v: ask(nc, Search(expert_id=EXPERT, q=q, k=K)),
        "raw": lambda q, v: conn.fetch(RAW_SQL, TENANT, EXPERT, v, K),
        "embed": lambda q, v: embedder.embed_query(q),
        "keyword": lambda q, v: keyword_ranking(sqla, TENANT, EXPERT, q, n),
    }
    latencies: dict[str, list] = {name: [] for name in steps}
    for i, (q, v) in enumerate(zip(qs, vectors, strict=True)):
        order = list(steps) if i % 2 == 0 else list(reversed(steps))
        for name in order:
            seconds, result = await timed(steps[name](q, v))
            if name == "service" and not result.results:
                raise RuntimeError(f"the service found nothing for {q!r}")
            latencies[name].append(seconds)
    return latencies


async def recall(conn, vectors) -> tuple[float, list[float]]:
    """Mean recall@K of the HNSW search against the exact one, and the exact scan's latencies."""
    found, exact_s = [], []
    for v in vectors:
        approx = {r[0] for r in await conn.fetch(RAW_SQL, TENANT, EXPERT, v, K)}
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_indexscan = off")
            seconds, rows = await timed(conn.fetch(RAW_SQL, TENANT, EXPERT, v, K))
        exact_s.append(seconds)
        found.append(len(approx & {r[0] for r in rows}) / K)
    return sum(found) / len(found), exact_s


async def run() -> dict:
    begin()
    async with embedded_stack() as stack:
        settings = stack.settings()
        embedder = await asyncio.to_thread(
            Embedder, settings.embedding_model, batch_size=settings.embedding_batch_size
        )
        host = await start_service(settings, "knowledge", embedder)  # creates knowledge.chunks
        nc = await admin_connect(stack.nats_url, stack.home)
        conn = await asyncpg.connect(stack.raw_dsn)
        engine = make_engine(stack.database_url)
        try:
            sentences, topics = base_sentences()
            with Timer() as embedding_base:
                base = embedder.encode(sentences)
            maker = ChunkMaker(sentences, topics, base, seed=5)
            load = await bulk_load(
                stack.raw_dsn, maker, [(TENANT, EXPERT, CHUNKS), (TENANT, OTHER, OTHER_CHUNKS)]
            )
            load["embed_base_s"] = embedding_base.s
            await register_vector(conn)
            await conn.execute("SET hnsw.ef_search = 100")  # what the service sets
            await conn.execute("SET hnsw.iterative_scan = relaxed_order")
            plan = "\n".join(
                r[0] for r in await conn.fetch("EXPLAIN " + RAW_SQL, TENANT, EXPERT, base[0], K)
            )
            if "chunks_hnsw" not in plan:
                raise RuntimeError(f"the raw query does not use the HNSW index:\n{plan}")
            qs = questions(WARMUP + QUERIES)
            vectors = embedder.encode(qs)
            async with engine.connect() as sqla:
                await measure(nc, conn, sqla, embedder, qs[:WARMUP], vectors[:WARMUP])
                latencies = await measure(nc, conn, sqla, embedder, qs[WARMUP:], vectors[WARMUP:])
            recall_at_k, exact_s = await recall(conn, vectors[WARMUP : WARMUP + RECALL_QUERIES])
        finally:
            await engine.dispose()
            await conn.close()
            await nc.close()
            await host.stop()
    return report(load, latencies, recall_at_k, exact_s)


def report(load: dict, latencies: dict[str, list], recall_at_k: float, exact_s: list) -> dict:
    ms = {
        name: {"p50_ms": 1000 * percentile(v, 50), "p95_ms": 1000 * percentile(v, 95)}
        for name, v in {**latencies, "exact": exact_s}.items()
    }
    figures = {
        "chunks": CHUNKS,
        "other_chunks": OTHER_CHUNKS,
        "base_sentences": BASE,
        "queries": QUERIES,
        "k": K,
        "load": load,
        "latency": ms,
        "ratio_p50": ms["service"]["p50_ms"] / ms["raw"]["p50_ms"],
        f"recall_at_{K}": recall_at_k,
        "recall_queries": RECALL_QUERIES,
    }
    rows = {
        "service": "service: qry.knowledge.search over NATS",
        "raw": "raw: pgvector HNSW top-5 (asyncpg)",
        "embed": "raw: query embedding alone",
        "keyword": "service's keyword SQL alone (top 20)",
        "exact": f"raw: exact top-5 scan ({RECALL_QUERIES} queries)",
    }
    print_table(
        f"search: {CHUNKS:,} chunks for one expert + {OTHER_CHUNKS:,} for another, k={K}, "
        f"{QUERIES} queries",
        ("path", "p50 ms", "p95 ms"),
        [
            *[(label, ms[n]["p50_ms"], ms[n]["p95_ms"]) for n, label in rows.items()],
            ("ratio service/raw (p50)", figures["ratio_p50"], ""),
        ],
    )
    print(f"  recall@{K} of HNSW vs exact: {recall_at_k:.3f}")
    print_table(
        "bulk load (synthetic vectors, see docs/benchmarks.md)",
        ("step", "seconds"),
        [(name.removesuffix("_s"), value) for name, value in load.items() if name.endswith("_s")],
    )
    record("search", figures)
    return figures
