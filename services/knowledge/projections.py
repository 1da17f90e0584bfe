"""The search index: chunks with their embeddings (pgvector, HNSW) and full-text vectors.

Rebuilt from the KNOWLEDGE stream; the chunk texts and embedding matrices are loaded from
the object store by the references that DocumentIndexed carries.
"""

from __future__ import annotations

import msgspec
import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.ingest import Chunk
from contracts.knowledge import (
    DocumentIndexed,
    DocumentUnindexed,
    EmbeddingStarted,
    IndexingFailed,
    IndexStatus,
)
from runtime.eventstore import RecordedEvent
from runtime.logs import get_logger
from runtime.objects import ObjectMissing, Objects

log = get_logger(__name__)
_chunks = msgspec.json.Decoder(list[Chunk])


def chunk_id(document_id: str, revision: int, index: int) -> str:
    return f"{document_id}:{revision}:{index}"


def vector_literal(row: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in row.tolist()) + "]"


class IndexProjection:
    name = "knowledge.index"
    streams = ("KNOWLEDGE",)
    announce = True

    def __init__(self, objects: Objects, dimensions: int) -> None:
        self.objects, self.dimensions = objects, dimensions

    async def create(self, conn: AsyncConnection) -> None:
        for statement in (
            "CREATE EXTENSION IF NOT EXISTS vector",
            "CREATE TABLE IF NOT EXISTS knowledge.documents ("
            " tenant text NOT NULL, document_id text NOT NULL, expert_id text NOT NULL,"
            " revision int NOT NULL, status text NOT NULL, chunks int NOT NULL DEFAULT 0,"
            " reason text, PRIMARY KEY (tenant, document_id))",
            "CREATE TABLE IF NOT EXISTS knowledge.chunks ("
            " tenant text NOT NULL, chunk_id text NOT NULL, expert_id text NOT NULL,"
            " document_id text NOT NULL, revision int NOT NULL, filename text NOT NULL,"
            " page int NOT NULL, ord int NOT NULL, body text NOT NULL,"
            f" embedding vector({self.dimensions}) NOT NULL,"
            " tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED,"
            " PRIMARY KEY (tenant, chunk_id))",
            "CREATE INDEX IF NOT EXISTS chunks_by_expert ON knowledge.chunks (tenant, expert_id)",
            "CREATE INDEX IF NOT EXISTS chunks_by_document ON knowledge.chunks (tenant, document_id)",
            "CREATE INDEX IF NOT EXISTS chunks_tsv ON knowledge.chunks USING gin (tsv)",
            "CREATE INDEX IF NOT EXISTS chunks_hnsw ON knowledge.chunks"
            " USING hnsw (embedding vector_cosine_ops)",
        ):
            await conn.execute(text(statement))

    async def drop(self, conn: AsyncConnection) -> None:
        await conn.execute(text("DROP TABLE IF EXISTS knowledge.chunks"))
        await conn.execute(text("DROP TABLE IF EXISTS knowledge.documents"))

    async def apply(self, conn: AsyncConnection, rec: RecordedEvent) -> None:
        ev = rec.event
        match ev:
            case EmbeddingStarted():
                await _status(
                    conn, rec.tenant, ev.document_id, ev.expert_id, ev.revision, "embedding"
                )
            case DocumentIndexed():
                await self._index(conn, rec.tenant, ev)
            case IndexingFailed():
                await conn.execute(
                    text(
                        "UPDATE knowledge.documents SET status = 'failed', reason = :why"
                        " WHERE tenant = :t AND document_id = :d AND revision = :r"
                    ),
                    {"t": rec.tenant, "d": ev.document_id, "r": ev.revision, "why": ev.reason},
                )
            case DocumentUnindexed():
                params = {"t": rec.tenant, "d": ev.document_id}
                await conn.execute(
                    text("DELETE FROM knowledge.chunks WHERE tenant = :t AND document_id = :d"),
                    params,
                )
                await conn.execute(
                    text("DELETE FROM knowledge.documents WHERE tenant = :t AND document_id = :d"),
                    params,
                )

    async def _index(self, conn: AsyncConnection, tenant: str, ev: DocumentIndexed) -> None:
        try:
            chunks = _chunks.decode(await self.objects.get(ev.chunks))
            matrix = np.frombuffer(await self.objects.get(ev.embeddings), dtype=np.float32)
        except ObjectMissing:
            log.info("index.skipped_missing_objects", document_id=ev.document_id)
            return  # the document was deleted later; its DocumentUnindexed follows
        matrix = matrix.reshape(len(chunks), ev.dimensions)
        await conn.execute(
            text("DELETE FROM knowledge.chunks WHERE tenant = :t AND document_id = :d"),
            {"t": tenant, "d": ev.document_id},
        )
        rows = [
            {
                "t": tenant,
                "c": chunk_id(ev.document_id, ev.revision, c.index),
                "e": ev.expert_id,
                "d": ev.document_id,
                "r": ev.revision,
                "f": ev.filename,
                "p": c.page,
                "o": c.index,
                "b": c.text,
                "v": vector_literal(matrix[i]),
            }
            for i, c in enumerate(chunks)
        ]
        if rows:
            await conn.execute(
                text(
                    "INSERT INTO knowledge.chunks (tenant, chunk_id, expert_id, document_id,"
                    " revision, filename, page, ord, body, embedding)"
                    " VALUES (:t, :c, :e, :d, :r, :f, :p, :o, :b, CAST(:v AS vector))"
                ),
                rows,
            )
        await _status(conn, tenant, ev.document_id, ev.expert_id, ev.revision, "ready", len(chunks))


async def _status(conn, tenant, document_id, expert_id, revision, status, chunks=0) -> None:
    await conn.execute(
        text(
            "INSERT INTO knowledge.documents (tenant, document_id, expert_id, revision, status, chunks)"
            " VALUES (:t, :d, :e, :r, :s, :c) ON CONFLICT (tenant, document_id) DO UPDATE"
            " SET expert_id = :e, revision = :r, status = :s, chunks = :c, reason = NULL"
        ),
        {"t": tenant, "d": document_id, "e": expert_id, "r": revision, "s": status, "c": chunks},
    )


async def index_statuses(conn: AsyncConnection, tenant: str, ids: list[str]) -> list[IndexStatus]:
    rows = await conn.execute(
        text(
            "SELECT document_id, revision, status, chunks, reason FROM knowledge.documents"
            " WHERE tenant = :t AND document_id = ANY(:ids)"
        ),
        {"t": tenant, "ids": ids},
    )
    return [
        IndexStatus(
            document_id=r.document_id,
            revision=r.revision,
            status=r.status,
            chunks=r.chunks,
            reason=r.reason,
        )
        for r in rows
    ]
