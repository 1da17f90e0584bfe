"""The documents read model of the ingest service, rebuilt from the INGEST stream."""

from __future__ import annotations

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

DDL = (
    "CREATE TABLE IF NOT EXISTS ingest.documents ("
    " tenant text NOT NULL, id text NOT NULL, expert_id text NOT NULL, revision int NOT NULL,"
    " filename text NOT NULL, media_type text NOT NULL, sha256 text NOT NULL, size bigint NOT NULL,"
    " status text NOT NULL, pages int NOT NULL DEFAULT 0, chunks int NOT NULL DEFAULT 0,"
    " reason text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
    " PRIMARY KEY (tenant, id))",
    "CREATE INDEX IF NOT EXISTS documents_by_expert ON ingest.documents (tenant, expert_id)",
)


class DocumentsProjection:
    name = "ingest.documents"
    streams = ("INGEST",)
    announce = True

    async def create(self, conn: AsyncConnection) -> None:
        for statement in DDL:
            await conn.execute(text(statement))

    async def drop(self, conn: AsyncConnection) -> None:
        await conn.execute(text("DROP TABLE IF EXISTS ingest.documents"))

    async def apply(self, conn: AsyncConnection, rec: RecordedEvent) -> None:
        ev = rec.event
        key = {"t": rec.tenant, "id": rec.aggregate_id, "at": rec.at}
        match ev:
            case DocumentUploaded():
                await conn.execute(
                    text(
                        "INSERT INTO ingest.documents (tenant, id, expert_id, revision, filename,"
                        " media_type, sha256, size, status, created_at, updated_at)"
                        " VALUES (:t, :id, :e, :r, :f, :m, :s, :z, 'uploaded', :at, :at)"
                        " ON CONFLICT (tenant, id) DO UPDATE SET revision = EXCLUDED.revision,"
                        " status = 'uploaded', filename = EXCLUDED.filename, pages = 0, chunks = 0,"
                        " reason = NULL, updated_at = EXCLUDED.updated_at"
                    ),
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
                await _set(conn, key, ev.revision, "status = 'parsing'")
            case DocumentChunked():
                await _set(
                    conn,
                    {**key, "p": ev.pages, "c": ev.chunk_count},
                    ev.revision,
                    "status = 'chunked', pages = :p, chunks = :c",
                )
            case DocumentRejected():
                await _set(
                    conn,
                    {**key, "why": ev.reason},
                    ev.revision,
                    "status = 'rejected', reason = :why",
                )
            case DocumentDeleted():
                await conn.execute(
                    text(
                        "DELETE FROM ingest.documents WHERE tenant = :t AND id = :id AND revision = :r"
                    ),
                    {**key, "r": ev.revision},
                )


async def _set(conn: AsyncConnection, params: dict, revision: int, assignments: str) -> None:
    await conn.execute(
        text(
            f"UPDATE ingest.documents SET {assignments}, updated_at = :at"
            " WHERE tenant = :t AND id = :id AND revision = :r"
        ),
        {**params, "r": revision},
    )


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


async def list_documents(conn: AsyncConnection, tenant: str, expert_id: str) -> DocumentList:
    rows = await conn.execute(
        text(
            "SELECT * FROM ingest.documents WHERE tenant = :t AND expert_id = :e"
            " ORDER BY created_at, id"
        ),
        {"t": tenant, "e": expert_id},
    )
    return DocumentList(documents=[to_view(r) for r in rows])
