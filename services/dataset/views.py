"""Reading the datasets read model: one version's row (with its spec, seed and rejections
object) and its view, and an expert's versions."""

from __future__ import annotations

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.base import ObjectRef
from contracts.dataset import Counts, DatasetView
from runtime.db import row_by_id


def to_view(row) -> DatasetView:
    counts = msgspec.convert(row.counts, Counts) if row.counts else Counts()
    total = counts.train + counts.val
    minimum = row.min_examples or 0
    progress = {"done": row.done or 0, "total": row.total or 0} if row.status == "building" else {}
    content = msgspec.convert(row.content, ObjectRef) if row.content else None
    return DatasetView(
        id=row.id,
        expert_id=row.expert_id,
        version=row.version,
        parent=row.parent,
        status=row.status,
        train_examples=counts.train,
        val_examples=counts.val,
        sources=counts.by_source,
        rejected=counts.rejected,
        sha256=content.sha256 if content else None,
        ready_for_training=row.status == "ready" and total >= minimum,
        min_examples=minimum,
        progress=progress,
        stage=row.stage,
        reason=row.reason,
        content=content,
        created_at=row.created_at.isoformat(),
        updated_at=row.updated_at.isoformat(),
    )


async def row(conn: AsyncConnection, tenant: str, dataset_id: str):
    """The row (with its spec, seed and rejections object), or None."""
    return await row_by_id(conn, "dataset.datasets", tenant, dataset_id)


async def versions(conn: AsyncConnection, tenant: str, expert_id: str) -> list[DatasetView]:
    """The expert's versions, newest first."""
    rows = await conn.execute(
        text(
            "SELECT * FROM dataset.datasets WHERE tenant = :t AND expert_id = :e"
            " ORDER BY version DESC"
        ),
        {"t": tenant, "e": expert_id},
    )
    return [to_view(r) for r in rows]


async def newest_from(conn: AsyncConnection, tenant: str, dataset_id: str):
    """The newest ready version made by edits from `dataset_id` (itself when none was): where
    an edit made on its page goes on from."""
    sql = text(
        "WITH RECURSIVE line(id) AS ("
        " SELECT id FROM dataset.datasets WHERE tenant = :t AND id = :id"
        " UNION SELECT d.id FROM dataset.datasets d JOIN line ON d.parent = line.id"
        " WHERE d.tenant = :t)"
        " SELECT d.* FROM dataset.datasets d JOIN line ON d.id = line.id"
        " WHERE d.tenant = :t AND d.status = 'ready' ORDER BY d.version DESC LIMIT 1"
    )
    return (await conn.execute(sql, {"t": tenant, "id": dataset_id})).first()
