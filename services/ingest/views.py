"""The SQL reads of the documents read model (`projections.py`): one document, and an
expert's documents page by page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.ingest import DocumentList, DocumentView
from runtime.db import row_by_id, struct_of


def to_view(row) -> DocumentView:
    return struct_of(DocumentView, row)


async def get_document(conn: AsyncConnection, tenant: str, document_id: str) -> DocumentView | None:
    row = await row_by_id(conn, "ingest.documents", tenant, document_id)
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
