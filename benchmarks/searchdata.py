"""Synthetic chunks for the search benchmark, bulk-loaded straight into `knowledge.chunks`.

Embedding 120,000 real passages would take about half an hour on a 2-core CPU, so only a
few hundred real, varied sentences (`BASE`) are embedded with the real embedder. Each
chunk's vector is a normalised noisy mixture of three of them: a main sentence, and two
weaker ones, usually from the same topic, plus Gaussian noise. The chunk's text is those
three sentences plus two or three more sentences of the main topic, so the text and the
vector agree about what the chunk is about (keyword and vector search see the same thing).
"""

from __future__ import annotations

import random

import asyncpg
import numpy as np
from pgvector.asyncpg import register_vector

from benchmarks import corpus
from benchmarks.common import Timer
from services.knowledge.projections import CHUNK_COLUMNS

BASE = 600  # real sentences embedded with the real embedder
NOISE = 0.03  # per-dimension standard deviation (|noise| is about 0.6 in 384 dimensions)
CHUNKS_PER_DOCUMENT = 500
SLICE = 10_000  # rows generated and copied per COPY
DEFERRED_INDEXES = ("chunks_tsv", "chunks_hnsw")  # rebuilt after the load, like a bulk import


def base_sentences(seed: int = 11) -> tuple[list[str], list[int]]:
    """`BASE` sentences spread over every topic, and the topic of each."""
    rng = random.Random(seed)
    topics = [i % len(corpus.TOPICS) for i in range(BASE)]
    return [corpus.sentence(corpus.TOPICS[t], rng) for t in topics], topics


class ChunkMaker:
    def __init__(self, sentences: list[str], topics: list[int], vectors: np.ndarray, seed: int):
        self.sentences, self.topics, self.vectors = sentences, np.array(topics), vectors
        self.by_topic = [np.flatnonzero(self.topics == t) for t in range(len(corpus.TOPICS))]
        self.np_rng, self.rng = np.random.default_rng(seed), random.Random(seed)

    def rows(self, tenant: str, expert_id: str, start: int, n: int) -> list[tuple]:
        """Rows `start .. start+n` of one expert's chunks (500 chunks to a document)."""
        rng, dims = self.np_rng, self.vectors.shape[1]
        main = rng.integers(0, len(self.sentences), n)
        mates = np.empty((n, 2), dtype=int)
        for i, m in enumerate(main):
            pool = self.by_topic[self.topics[m]] if rng.random() < 0.8 else BASE
            mates[i] = rng.choice(pool, 2)
        weights = np.column_stack([np.ones(n), rng.uniform(0.3, 0.7, n), rng.uniform(0.1, 0.4, n)])
        mixed = (
            weights[:, :1] * self.vectors[main]
            + weights[:, 1:2] * self.vectors[mates[:, 0]]
            + weights[:, 2:] * self.vectors[mates[:, 1]]
        )
        mixed += rng.normal(0.0, NOISE, (n, dims))
        mixed = (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)
        rows = []
        for i in range(n):
            number = start + i
            document = f"{expert_id}-doc-{number // CHUNKS_PER_DOCUMENT:04d}"
            topic = corpus.TOPICS[self.topics[main[i]]]
            extra = [corpus.sentence(topic, self.rng) for _ in range(self.rng.randint(2, 3))]
            body = " ".join(
                [self.sentences[main[i]], *(self.sentences[j] for j in mates[i]), *extra]
            )
            ordinal = number % CHUNKS_PER_DOCUMENT
            rows.append(
                (
                    tenant,
                    f"{document}:1:{ordinal}",
                    expert_id,
                    document,
                    1,
                    f"{document}.pdf",
                    1 + ordinal // 4,
                    ordinal,
                    body,
                    mixed[i],
                )
            )
        return rows


async def bulk_load(dsn: str, maker: ChunkMaker, loads: list[tuple[str, str, int]]) -> dict:
    """COPY the chunks of each (tenant, expert, count) into the service's table; return timings.

    The GIN and HNSW indexes the service created are dropped first and rebuilt from their own
    definitions afterwards (a bulk import done the usual way); each step is timed.
    """
    conn = await asyncpg.connect(dsn)
    try:
        await register_vector(conn)
        definitions = {
            r["indexname"]: r["indexdef"]
            for r in await conn.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'knowledge'"
                " AND indexname = ANY($1)",
                list(DEFERRED_INDEXES),
            )
        }
        for name in DEFERRED_INDEXES:
            await conn.execute(f"DROP INDEX knowledge.{name}")
        generate = copy = 0.0
        for tenant, expert, count in loads:
            for start in range(0, count, SLICE):
                with Timer() as made:
                    rows = maker.rows(tenant, expert, start, min(SLICE, count - start))
                with Timer() as copied:
                    await conn.copy_records_to_table(
                        "chunks", schema_name="knowledge", columns=CHUNK_COLUMNS, records=rows
                    )
                generate, copy = generate + made.s, copy + copied.s
        # What the projection writes beside the chunks: one ready row per document, with its
        # chunk count (the search reads an expert's size from these).
        await conn.execute(
            "INSERT INTO knowledge.documents (tenant, document_id, expert_id, revision, status,"
            " chunks) SELECT tenant, document_id, expert_id, 1, 'ready', count(*)"
            " FROM knowledge.chunks GROUP BY tenant, document_id, expert_id"
        )
        await conn.execute("SET maintenance_work_mem = '1GB'")  # the HNSW graph fits in memory
        timings = {"generate_s": generate, "copy_s": copy}
        for name in DEFERRED_INDEXES:
            with Timer() as built:
                await conn.execute(definitions[name])
            timings[f"{name}_build_s"] = built.s
        with Timer() as analysed:
            await conn.execute("ANALYZE knowledge.chunks")
        timings["analyze_s"] = analysed.s
        timings["parallel_workers"] = int(
            await conn.fetchval("SHOW max_parallel_maintenance_workers")
        )
        return timings
    finally:
        await conn.close()
