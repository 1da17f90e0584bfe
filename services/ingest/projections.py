"""The documents read model of the ingest service, rebuilt from the INGEST stream."""

from __future__ import annotations

from sqlalchemy import text

from contracts.ingest import (
    STREAM,
    DocumentChunked,
    DocumentDeleted,
    DocumentParsingStarted,
    DocumentRejected,
    DocumentUploaded,
)
from runtime.eventstore import RecordedEvent
from runtime.projection import Tables, Writes

TABLE = (
    "CREATE TABLE IF NOT EXISTS documents ("
    " tenant text NOT NULL, id text NOT NULL, expert_id text NOT NULL, revision int NOT NULL,"
    " filename text NOT NULL, media_type text NOT NULL, sha256 text NOT NULL, size bigint NOT NULL,"
    " status text NOT NULL, pages int NOT NULL DEFAULT 0, chunks int NOT NULL DEFAULT 0,"
    " reason text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
    " PRIMARY KEY (tenant, id))"
)
INDEXES = ("CREATE INDEX IF NOT EXISTS documents_by_expert ON documents (tenant, expert_id)",)

UPLOADED = text(
    "INSERT INTO documents (tenant, id, expert_id, revision, filename,"
    " media_type, sha256, size, status, created_at, updated_at)"
    " VALUES (:t, :id, :e, :r, :f, :m, :s, :z, 'uploaded', :at, :at)"
    " ON CONFLICT (tenant, id) DO UPDATE SET revision = EXCLUDED.revision,"
    " status = 'uploaded', filename = EXCLUDED.filename, pages = 0, chunks = 0,"
    " reason = NULL, updated_at = EXCLUDED.updated_at"
)
PARSING = text(
    "UPDATE documents SET status = 'parsing', updated_at = :at"
    " WHERE tenant = :t AND id = :id AND revision = :r"
)
CHUNKED = text(
    "UPDATE documents SET status = 'chunked', pages = :p, chunks = :c, updated_at = :at"
    " WHERE tenant = :t AND id = :id AND revision = :r"
)
REJECTED = text(
    "UPDATE documents SET status = 'rejected', reason = :why, updated_at = :at"
    " WHERE tenant = :t AND id = :id AND revision = :r"
)
DELETED = text("DELETE FROM documents WHERE tenant = :t AND id = :id AND revision = :r")


class DocumentsProjection(Tables):
    name = "ingest.documents"
    streams = (STREAM,)
    announce = True
    table_ddl = (TABLE,)
    index_ddl = INDEXES

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        ev = rec.event
        key = {"t": rec.tenant, "id": rec.aggregate_id, "at": rec.at}
        match ev:
            case DocumentUploaded():
                out.add(
                    UPLOADED,
                    {
                        **key,
                        "e": ev.expert_id,
                        "r": ev.revision,
                        "f": ev.filename,
                        "m": ev.media_type,
                        "s": ev.sha256,
                        "z": ev.size,
                    },
                )
            case DocumentParsingStarted():
                out.add(PARSING, {**key, "r": ev.revision})
            case DocumentChunked():
                out.add(CHUNKED, {**key, "r": ev.revision, "p": ev.pages, "c": ev.chunk_count})
            case DocumentRejected():
                out.add(REJECTED, {**key, "r": ev.revision, "why": ev.reason})
            case DocumentDeleted():
                out.add(DELETED, {"t": rec.tenant, "id": rec.aggregate_id, "r": ev.revision})
