"""The documents read model of the ingest service, rebuilt from the INGEST stream."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.ingest import (
    DocumentChunked,
    DocumentDeleted,
    DocumentList,
    DocumentParsingStarted,
    DocumentRejected,
    DocumentUploaded,
    DocumentView,
)
from runtime.eventstore import RecordedEvent
from runtime.projection import Writes

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


class DocumentsProjection:
    name = "ingest.documents"
    streams = ("INGEST",)
    announce = True

    async def create(self, conn: AsyncConnection) -> None:
        await conn.execute(text(TABLE))

    async def indexes(self, conn: AsyncConnection) -> None:
        for statement in INDEXES:
            await conn.execute(text(statement))

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


def to_view(row) -> DocumentView:
    return DocumentView(
        id=row.id,
        expert_id=row.expert_id,
        filename=row.filename,
        status=row.status,
        revision=row.revision,
        pages=row.pages,
        chunks=row.chunks,
        sha256=row.sha256,
        size=row.size,
        media_type=row.media_type,
        reason=row.reason,
        created_at=row.created_at.isoformat(),
        updated_at=row.updated_at.isoformat(),
    )


async def get_document(conn: AsyncConnection, tenant: str, document_id: str) -> DocumentView | None:
    row = (
        await conn.execute(
            text("SELECT * FROM ingest.documents WHERE tenant = :t AND id = :id"),
            {"t": tenant, "id": document_id},
        )
    ).first()
    return to_view(row) if row else None


async def list_documents(
    conn: AsyncConnection,
    tenant: str,
    expert_id: str,
    *,
    limit: int | None = None,
    after: tuple[datetime, str] | None = None,
) -> DocumentList:
    """The expert's documents oldest first, `limit` at a time (all when None), after the
    (created_at, id) position a previous page ended at."""
    sql = "SELECT * FROM ingest.documents WHERE tenant = :t AND expert_id = :e"
    params: dict = {"t": tenant, "e": expert_id}
    if after is not None:
        sql += " AND (created_at, id) > (:after_at, :after_id)"
        params.update(after_at=after[0], after_id=after[1])
    sql += " ORDER BY created_at, id"
    if limit is not None:
        sql += " LIMIT :n"
        params["n"] = limit + 1  # one more tells whether another page follows
    rows = list(await conn.execute(text(sql), params))
    more = limit is not None and len(rows) > limit
    rows = rows[:limit] if limit is not None else rows
    cursor = f"{rows[-1].created_at.isoformat()}|{rows[-1].id}" if more else None
    return DocumentList(documents=[to_view(r) for r in rows], next=cursor)


def parse_cursor(cursor: str) -> tuple[datetime, str] | None:
    """`"<created_at>|<id>"` as written by `list_documents`, or None if it is not one."""
    at, _, document_id = cursor.partition("|")
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return None
    return (when, document_id) if document_id and when.tzinfo else None
