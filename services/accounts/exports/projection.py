"""`accounts.data_jobs`: one row per export or import job, what `GetDataJob` reads (status,
progress, the archive of a finished export, an import's report), rebuilt from the ACCOUNTS
log like every read model. Never announced: the console polls the job."""

from __future__ import annotations

from sqlalchemy import text

from contracts.accounts import (
    STREAM,
    ExportExpired,
    ExportFailed,
    ExportFinished,
    ExportProgressed,
    ExportRequested,
    ImportFailed,
    ImportFinished,
    ImportProgressed,
    ImportRequested,
)
from runtime.codec import json_text
from runtime.eventstore import RecordedEvent
from runtime.projection import Tables, Writes

TABLE = (
    "CREATE TABLE IF NOT EXISTS data_jobs ("
    " id text NOT NULL, kind text NOT NULL, tenant text NOT NULL, user_id text NOT NULL,"
    " status text NOT NULL, done bigint NOT NULL DEFAULT 0, total bigint NOT NULL DEFAULT 0,"
    " stage text NOT NULL DEFAULT '', error text, archive jsonb,"
    " counts jsonb NOT NULL DEFAULT '{}', restored jsonb NOT NULL DEFAULT '[]',"
    " skipped jsonb NOT NULL DEFAULT '[]', kept jsonb NOT NULL DEFAULT '{}',"
    " created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
    " PRIMARY KEY (kind, id))"
)
REQUESTED = text(
    "INSERT INTO data_jobs (id, kind, tenant, user_id, status, created_at, updated_at)"
    " VALUES (:id, :kind, :t, :user, 'running', :at, :at) ON CONFLICT DO NOTHING"
)
PROGRESSED = text(
    "UPDATE data_jobs SET done = :done, total = :total, stage = :stage, updated_at = :at"
    " WHERE kind = :kind AND id = :id AND status = 'running'"
)
EXPORTED = text(
    "UPDATE data_jobs SET status = 'done', done = total, stage = '', archive = CAST(:a AS jsonb),"
    " counts = CAST(:c AS jsonb), updated_at = :at WHERE kind = 'export' AND id = :id"
)
IMPORTED = text(
    "UPDATE data_jobs SET status = 'done', done = total, stage = '',"
    " restored = CAST(:r AS jsonb), skipped = CAST(:s AS jsonb), kept = CAST(:k AS jsonb),"
    " updated_at = :at WHERE kind = 'import' AND id = :id"
)
FAILED = text(
    "UPDATE data_jobs SET status = 'failed', error = :why, restored = CAST(:r AS jsonb),"
    " updated_at = :at WHERE kind = :kind AND id = :id"
)
EXPIRED = text(
    "UPDATE data_jobs SET status = 'expired', updated_at = :at WHERE kind = 'export' AND id = :id"
)


class DataJobsProjection(Tables):
    name = "accounts.data_jobs"
    streams = (STREAM,)
    announce = False
    table_ddl = (TABLE,)
    index_ddl = (
        "CREATE INDEX IF NOT EXISTS data_jobs_by_tenant ON data_jobs (tenant, kind, created_at)",
    )

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        at = rec.at
        match rec.event:
            case ExportRequested() | ImportRequested() as ev:
                kind = "export" if isinstance(ev, ExportRequested) else "import"
                out.add(REQUESTED, {"id": ev.job_id, "kind": kind, "t": rec.tenant,
                                    "user": ev.user_id, "at": at})  # fmt: skip
            case ExportProgressed() | ImportProgressed() as ev:
                kind = "export" if isinstance(ev, ExportProgressed) else "import"
                out.add(PROGRESSED, {"id": ev.job_id, "kind": kind, "done": ev.done,
                                     "total": ev.total, "stage": ev.stage, "at": at})  # fmt: skip
            case ExportFinished() as ev:
                out.add(EXPORTED, {"id": ev.job_id, "a": json_text(ev.archive),
                                   "c": json_text(ev.counts), "at": at})  # fmt: skip
            case ImportFinished() as ev:
                out.add(IMPORTED, {"id": ev.job_id, "r": json_text(ev.restored),
                                   "s": json_text(ev.skipped), "k": json_text(ev.kept),
                                   "at": at})  # fmt: skip
            case ExportFailed() as ev:
                out.add(FAILED, {"id": ev.job_id, "kind": "export", "why": ev.reason,
                                 "r": "[]", "at": at})  # fmt: skip
            case ImportFailed() as ev:
                out.add(FAILED, {"id": ev.job_id, "kind": "import", "why": ev.reason,
                                 "r": json_text(ev.restored), "at": at})  # fmt: skip
            case ExportExpired() as ev:
                out.add(EXPIRED, {"id": ev.job_id, "at": at})
