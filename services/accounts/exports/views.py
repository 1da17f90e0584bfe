"""Reading `accounts.data_jobs`: one job of a tenant, the tenant's running export, and the
finished exports the sweeper and a new export let go."""

from __future__ import annotations

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.accounts import DataJob, ImportItem
from contracts.base import ObjectRef

JOB = text("SELECT * FROM accounts.data_jobs WHERE tenant = :t AND kind = :kind AND id = :id")
RUNNING_EXPORT = text(
    "SELECT * FROM accounts.data_jobs WHERE tenant = :t AND kind = 'export'"
    " AND status = 'running' ORDER BY created_at DESC LIMIT 1"
)
FINISHED_EXPORTS = (
    "SELECT id, tenant, archive, updated_at FROM accounts.data_jobs"
    " WHERE kind = 'export' AND status = 'done' AND archive IS NOT NULL"
)
# every archive a finished export still names: what the sweeper keeps
LIVE_ARCHIVES = text(
    "SELECT archive->>'name' FROM accounts.data_jobs"
    " WHERE kind = 'export' AND status = 'done' AND archive IS NOT NULL"
)


async def job(conn: AsyncConnection, tenant: str, kind: str, job_id: str) -> DataJob | None:
    row = (await conn.execute(JOB, {"t": tenant, "kind": kind, "id": job_id})).first()
    return None if row is None else job_of(row)


async def running_export(conn: AsyncConnection, tenant: str) -> DataJob | None:
    row = (await conn.execute(RUNNING_EXPORT, {"t": tenant})).first()
    return None if row is None else job_of(row)


async def finished_exports(
    conn: AsyncConnection,
    *,
    tenant: str | None = None,
    but: str = "",
    older_than_s: float | None = None,
) -> list:
    """Finished exports whose archive is still stored: of one tenant but one job (a new export
    replaces them), or of everyone older than `older_than_s` (the sweeper's)."""
    sql, params = FINISHED_EXPORTS, {}
    if tenant is not None:
        sql += " AND tenant = :t AND id <> :but"
        params.update(t=tenant, but=but)
    if older_than_s is not None:
        sql += " AND updated_at < now() - make_interval(secs => :age)"
        params["age"] = older_than_s
    return list((await conn.execute(text(sql), params)).all())


def job_of(row) -> DataJob:
    archive = msgspec.convert(row.archive, ObjectRef) if row.archive else None
    return DataJob(
        id=row.id,
        kind=row.kind,
        status=row.status,
        done=row.done,
        total=row.total,
        stage=row.stage,
        error=row.error,
        archive=archive,
        filename=f"simtune-export-{row.created_at:%Y%m%d-%H%M%S}.zip" if archive else "",
        counts=dict(row.counts or {}),
        restored=msgspec.convert(row.restored or [], list[ImportItem]),
        skipped=msgspec.convert(row.skipped or [], list[ImportItem]),
        kept=dict(row.kept or {}),
        created_at=row.created_at.isoformat(),
        updated_at=row.updated_at.isoformat(),
    )
