"""The datasets read model: one row per version, rebuilt from the dataset stream (`views.py`
reads it)."""

from __future__ import annotations

from sqlalchemy import text

from contracts.dataset import (
    STREAM,
    DatasetBuildCancelled,
    DatasetBuildFailed,
    DatasetBuildProgressed,
    DatasetBuildRequested,
    DatasetBuilt,
    DatasetRevised,
    DatasetsErased,
)
from runtime.codec import json_text
from runtime.eventstore import RecordedEvent
from runtime.projection import Tables, Writes

TABLE = (
    "CREATE TABLE IF NOT EXISTS datasets ("
    " tenant text NOT NULL, id text NOT NULL, expert_id text NOT NULL,"
    " version int NOT NULL, parent text, status text NOT NULL, seed bigint,"
    " spec jsonb, stage text, done int, total int, counts jsonb, content jsonb,"
    " rejections jsonb, min_examples int, reason text, change jsonb,"
    " created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
    " PRIMARY KEY (tenant, id))"
)
BY_EXPERT = (
    "CREATE INDEX IF NOT EXISTS datasets_by_expert ON datasets (tenant, expert_id, version DESC)"
)
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
ERASED = text("DELETE FROM datasets WHERE tenant = :t AND expert_id = :e")
CANCELLED = "Cancelled before it was finished."


class DatasetsProjection(Tables):
    name = "dataset.datasets"
    streams = (STREAM,)
    announce = True
    table_ddl = (TABLE,)
    index_ddl = (BY_EXPERT,)

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        key = {"t": rec.tenant, "at": rec.at, "id": getattr(rec.event, "dataset_id", None)}
        match rec.event:
            case DatasetBuildRequested() as ev:
                out.add(REQUESTED, {**key, "e": ev.expert_id, "v": ev.version,
                                    "seed": ev.spec.seed, "spec": json_text(ev.spec)})  # fmt: skip
            case DatasetRevised() as ev:
                change = {"change": ev.change, "example_id": ev.example_id}
                out.add(REVISED, {
                    **key, "e": ev.expert_id, "v": ev.version, "parent": ev.parent,
                    "counts": json_text(ev.counts), "content": json_text(ev.content),
                    "min": ev.min_examples, "change": json_text(change),
                })  # fmt: skip
            case DatasetBuildProgressed() as ev:
                out.add(PROGRESSED, {**key, "stage": ev.stage, "done": ev.done, "total": ev.total})
            case DatasetBuilt() as ev:
                out.add(BUILT, {
                    **key, "counts": json_text(ev.counts), "content": json_text(ev.content),
                    "rejections": json_text(ev.rejections), "min": ev.min_examples,
                })  # fmt: skip
            case DatasetBuildFailed() as ev:
                out.add(ENDED, {**key, "status": "failed", "reason": ev.reason})
            case DatasetBuildCancelled():
                out.add(ENDED, {**key, "status": "cancelled", "reason": CANCELLED})
            case DatasetsErased() as ev:
                out.add(ERASED, {"t": rec.tenant, "e": ev.expert_id})
