"""The search index: chunks with their embeddings (pgvector, HNSW) and full-text vectors.

Rebuilt from the KNOWLEDGE stream; the chunk texts and embedding matrices are loaded from
the object store by the references that DocumentIndexed carries.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import text

from contracts.knowledge import (
    STREAM,
    DocumentIndexed,
    DocumentUnindexed,
    EmbeddingStarted,
    IndexingFailed,
)
from runtime.eventstore import RecordedEvent
from runtime.logs import get_logger
from runtime.objects import ObjectMissing, Objects
from runtime.projection import Tables, Writes
from services.knowledge.stored import load_chunks

log = get_logger(__name__)


def chunk_id(document_id: str, revision: int, index: int) -> str:
    return f"{document_id}:{revision}:{index}"


STATUS = text(
    "INSERT INTO documents (tenant, document_id, expert_id, revision, status, chunks)"
    " VALUES (:t, :d, :e, :r, :s, :c) ON CONFLICT (tenant, document_id) DO UPDATE"
    " SET expert_id = :e, revision = :r, status = :s, chunks = :c, reason = NULL"
)
FAILED = text(
    "UPDATE documents SET status = 'failed', reason = :why"
    " WHERE tenant = :t AND document_id = :d AND revision = :r"
)
DROP_CHUNKS = text("DELETE FROM chunks WHERE tenant = :t AND document_id = :d")
DROP_DOCUMENT = text("DELETE FROM documents WHERE tenant = :t AND document_id = :d")
CHUNK_COLUMNS = (
    "tenant",
    "chunk_id",
    "expert_id",
    "document_id",
    "revision",
    "filename",
    "page",
    "ord",
    "body",
    "embedding",
)  # what a chunk row is written with (tsv is generated from body)
ADD_CHUNK = text(
    f"INSERT INTO chunks ({', '.join(CHUNK_COLUMNS)})"
    " VALUES (:t, :c, :e, :d, :r, :f, :p, :o, :b, :v)"
)
INDEXES = (
    "CREATE INDEX IF NOT EXISTS chunks_by_expert ON chunks (tenant, expert_id)",
    "CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks (tenant, document_id)",
    "CREATE INDEX IF NOT EXISTS chunks_tsv ON chunks USING gin (tsv)",
    "CREATE INDEX IF NOT EXISTS chunks_hnsw ON chunks USING hnsw (embedding vector_cosine_ops)",
)


class IndexProjection(Tables):
    name = "knowledge.index"
    streams = (STREAM,)
    announce = True
    extensions = ("vector",)

    def __init__(self, objects: Objects, dimensions: int) -> None:
        self.objects, self.dimensions = objects, dimensions

    index_ddl = INDEXES

    @property
    def table_ddl(self) -> tuple[str, ...]:
        return (
            "CREATE TABLE IF NOT EXISTS documents ("
            " tenant text NOT NULL, document_id text NOT NULL, expert_id text NOT NULL,"
            " revision int NOT NULL, status text NOT NULL, chunks int NOT NULL DEFAULT 0,"
            " reason text, PRIMARY KEY (tenant, document_id))",
            "CREATE TABLE IF NOT EXISTS chunks ("
            " tenant text NOT NULL, chunk_id text NOT NULL, expert_id text NOT NULL,"
            " document_id text NOT NULL, revision int NOT NULL, filename text NOT NULL,"
            " page int NOT NULL, ord int NOT NULL, body text NOT NULL,"
            f" embedding vector({self.dimensions}) NOT NULL,"
            " tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED,"
            " PRIMARY KEY (tenant, chunk_id))",
        )

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        ev = rec.event
        match ev:
            case EmbeddingStarted():
                out.add(STATUS, _status(rec.tenant, ev, "embedding"))
            case DocumentIndexed():
                await self._index(out, rec.tenant, ev)
            case IndexingFailed():
                params = {"t": rec.tenant, "d": ev.document_id, "r": ev.revision}
                out.add(FAILED, {**params, "why": ev.reason})
            case DocumentUnindexed():
                params = {"t": rec.tenant, "d": ev.document_id}
                out.add(DROP_CHUNKS, params)
                out.add(DROP_DOCUMENT, params)

    async def _index(self, out: Writes, tenant: str, ev: DocumentIndexed) -> None:
        try:
            chunks = await load_chunks(self.objects, ev.chunks, tenant)
            embeddings = await self.objects.get(ev.embeddings, tenant=tenant)
            matrix = np.frombuffer(embeddings, dtype=np.float32)
        except ObjectMissing:
            log.info("index.skipped_missing_objects", document_id=ev.document_id)
            return  # the document was deleted later; its DocumentUnindexed follows
        matrix = matrix.reshape(len(chunks), ev.dimensions)
        out.add(DROP_CHUNKS, {"t": tenant, "d": ev.document_id})
        out.add_many(
            ADD_CHUNK,
            [
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
                    "v": matrix[i],  # binary, by pgvector's codec (runtime.db)
                }
                for i, c in enumerate(chunks)
            ],
        )
        out.add(STATUS, _status(tenant, ev, "ready", len(chunks)))


def _status(tenant: str, ev, status: str, chunks: int = 0) -> dict:
    return {
        "t": tenant,
        "d": ev.document_id,
        "e": ev.expert_id,
        "r": ev.revision,
        "s": status,
        "c": chunks,
    }
