"""The datasets read model: one row per version, rebuilt from the DATASET stream."""

from __future__ import annotations

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.base import ObjectRef
from contracts.dataset import (
    Counts,
    DatasetBuildCancelled,
    DatasetBuildFailed,
    DatasetBuildProgressed,
    DatasetBuildRequested,
    DatasetBuilt,
    DatasetRevised,
    DatasetView,
)
from runtime.eventstore import RecordedEvent
from runtime.projection import Writes

_json = msgspec.json.Encoder()

REQUESTED = text(
    "INSERT INTO datasets (tenant, id, expert_id, version, parent, status, seed, spec,"
    " created_at, updated_at) VALUES (:t, :id, :e, :v, NULL, 'building', :seed,"
    " CAST(:spec AS jsonb), :at, :at) ON CONFLICT DO NOTHING"
)
REVISED = text(
    "INSERT INTO datasets (tenant, id, expert_id, version, parent, status, seed, spec, counts,"
    " content, rejections, min_examples, change, created_at, updated_at)"
    " SELECT :t, :id, :e, :v, :parent, 'ready', p.seed, p.spec, CAST(:counts AS jsonb),"
    " CAST(:content AS jsonb), p.rejections, :min, CAST(:change AS jsonb), :at, :at"
    " FROM datasets p WHERE p.tenant = :t AND p.id = :parent ON CONFLICT DO NOTHING"
)
PROGRESSED = text(
    "UPDATE datasets SET stage = :stage, done = :done, total = :total, updated_at = :at"
    " WHERE tenant = :t AND id = :id AND status = 'building'"
)
BUILT = text(
    "UPDATE datasets SET status = 'ready', stage = NULL, counts = CAST(:counts AS jsonb),"
    " content = CAST(:content AS jsonb), rejections = CAST(:rejections AS jsonb),"
    " min_examples = :min, updated_at = :at WHERE tenant = :t AND id = :id"
)
ENDED = text(
    "UPDATE datasets SET status = :status, reason = :reason, stage = NULL, updated_at = :at"
    " WHERE tenant = :t AND id = :id"
)


def _encode(value) -> str:
    return _json.encode(value).decode()


class DatasetsProjection:
    name = "dataset.datasets"
    streams = ("DATASET",)
    announce = True

    async def create(self, conn: AsyncConnection) -> None:
        await conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS datasets ("
                " tenant text NOT NULL, id text NOT NULL, expert_id text NOT NULL,"
                " version int NOT NULL, parent text, status text NOT NULL, seed bigint,"
                " spec jsonb, stage text, done int, total int, counts jsonb, content jsonb,"
                " rejections jsonb, min_examples int, reason text, change jsonb,"
                " created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
                " PRIMARY KEY (tenant, id))"
            )
        )

    async def indexes(self, conn: AsyncConnection) -> None:
        await conn.execute(
            text(
                "CREATE INDEX IF NOT EXISTS datasets_by_expert"
                " ON datasets (tenant, expert_id, version DESC)"
            )
        )

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        key = {"t": rec.tenant, "at": rec.at}
        match rec.event:
            case DatasetBuildRequested() as ev:
                out.add(
                    REQUESTED,
                    {
                        **key,
                        "id": ev.dataset_id,
                        "e": ev.expert_id,
                        "v": ev.version,
                        "seed": ev.spec.seed,
                        "spec": _encode(ev.spec),
                    },
                )
            case DatasetRevised() as ev:
                change = {"change": ev.change, "example_id": ev.example_id}
                out.add(
                    REVISED,
                    {
                        **key,
                        "id": ev.dataset_id,
                        "e": ev.expert_id,
                        "v": ev.version,
                        "parent": ev.parent,
                        "counts": _encode(ev.counts),
                        "content": _encode(ev.content),
                        "min": ev.min_examples,
                        "change": _encode(change),
                    },
                )
            case DatasetBuildProgressed() as ev:
                out.add(
                    PROGRESSED,
                    {**key, "id": ev.dataset_id, "stage": ev.stage, "done": ev.done,
                     "total": ev.total},
                )  # fmt: skip
            case DatasetBuilt() as ev:
                out.add(
                    BUILT,
                    {
                        **key,
                        "id": ev.dataset_id,
                        "counts": _encode(ev.counts),
                        "content": _encode(ev.content),
                        "rejections": _encode(ev.rejections),
                        "min": ev.min_examples,
                    },
                )
            case DatasetBuildFailed() as ev:
                out.add(
                    ENDED, {**key, "id": ev.dataset_id, "status": "failed", "reason": ev.reason}
                )
            case DatasetBuildCancelled() as ev:
                out.add(
                    ENDED,
                    {**key, "id": ev.dataset_id, "status": "cancelled",
                     "reason": "Cancelled before it was finished."},
                )  # fmt: skip


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


async def get_dataset(conn: AsyncConnection, tenant: str, dataset_id: str):
    """The row (with its spec, seed and rejections object), or None."""
    return (
        await conn.execute(
            text("SELECT * FROM dataset.datasets WHERE tenant = :t AND id = :id"),
            {"t": tenant, "id": dataset_id},
        )
    ).first()


async def list_datasets(conn: AsyncConnection, tenant: str, expert_id: str) -> list[DatasetView]:
    rows = await conn.execute(
        text(
            "SELECT * FROM dataset.datasets WHERE tenant = :t AND expert_id = :e"
            " ORDER BY version DESC"
        ),
        {"t": tenant, "e": expert_id},
    )
    return [to_view(r) for r in rows]
