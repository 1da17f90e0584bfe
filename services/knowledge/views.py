"""The SQL reads of the knowledge service's index tables (`projections.py`), for its
queries: where each document stands in the index, and the expert's passages page by page.
The hybrid search over the same tables is `search.py`."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.base import DomainError, ErrorCode
from contracts.knowledge import IndexStatus, IndexStatuses, ListPassages, Passage, PassagePage
from runtime.db import struct_of


async def index_statuses(conn: AsyncConnection, tenant: str, ids: list[str]) -> IndexStatuses:
    """Where each of these documents stands in the index (those it has never seen left out)."""
    rows = await conn.execute(
        text(
            "SELECT document_id, revision, status, chunks, reason FROM knowledge.documents"
            " WHERE tenant = :t AND document_id = ANY(:ids)"
        ),
        {"t": tenant, "ids": ids},
    )
    return IndexStatuses(statuses=[struct_of(IndexStatus, r) for r in rows])


async def passages_page(conn: AsyncConnection, query: ListPassages) -> PassagePage:
    """The expert's passages in (document, position) order; `next` is "<document>|<ord>"."""
    params = {"t": query.tenant, "e": query.expert_id, "n": query.limit + 1}
    after = ""
    if query.after:
        document_id, _, ord_ = query.after.rpartition("|")
        if not ord_.isdigit():
            raise DomainError(ErrorCode.INVALID, "after must be the `next` of a page")
        after = " AND (document_id, ord) > (:d, :o)"
        params.update(d=document_id, o=int(ord_))
    rows = list(
        await conn.execute(
            text(
                "SELECT document_id, filename, page, chunk_id, body, ord FROM knowledge.chunks"
                f" WHERE tenant = :t AND expert_id = :e{after}"
                " ORDER BY document_id, ord LIMIT :n"
            ),
            params,
        )
    )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return PassagePage(
        passages=[struct_of(Passage, r, text=r.body) for r in rows],
        next=f"{rows[-1].document_id}|{rows[-1].ord}" if more else None,
    )
