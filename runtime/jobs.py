"""Rebuild jobs, kept in the service's schema so that any replica can report on them.

One rebuild runs at a time per service (a partial unique index says so). A running job
writes its progress every half second or so; one that has not been heard of for
STALE_S is reported as failed (its process stopped), and no longer blocks a new one.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.base import ProjectionProgress, RebuildJob
from runtime import db

STALE_S = 30
STOPPED = "the service stopped during the rebuild; start the rebuild again"

DDL = (
    "CREATE TABLE IF NOT EXISTS {s}.rebuild_jobs (id text PRIMARY KEY, state text NOT NULL,"
    " projections jsonb NOT NULL DEFAULT '[]', error text,"
    " started_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),"
    " finished_at timestamptz)",
    "CREATE UNIQUE INDEX IF NOT EXISTS rebuild_jobs_one_running ON {s}.rebuild_jobs ((true))"
    " WHERE state = 'running'",
)
_progress = msgspec.json.Encoder()


class Jobs:
    def __init__(self, engine: AsyncEngine, schema: str, service: str) -> None:
        self.engine, self.service = engine, service
        self.table = f'"{schema}".rebuild_jobs'
        self._schema = f'"{schema}"'

    async def ensure(self) -> None:
        async with self.engine.begin() as conn:
            await db.ddl_lock(conn)
            for statement in DDL:
                await conn.execute(text(statement.format(s=self._schema)))

    async def start(self, projections: list[str]) -> tuple[RebuildJob, bool]:
        """A new running job, or the one already running (and False)."""
        progress = _progress.encode([ProjectionProgress(name=n) for n in projections]).decode()
        job_id = uuid.uuid4().hex[:16]
        while True:
            async with self.engine.begin() as conn:
                await conn.execute(
                    text(
                        f"UPDATE {self.table} SET state = 'failed', error = :why, finished_at = now()"
                        f" WHERE state = 'running' AND updated_at < now() - make_interval(secs => {STALE_S})"
                    ),
                    {"why": STOPPED},
                )
                created = await conn.execute(
                    text(
                        f"INSERT INTO {self.table} (id, state, projections)"
                        " VALUES (:id, 'running', CAST(:p AS jsonb)) ON CONFLICT DO NOTHING"
                    ),
                    {"id": job_id, "p": progress},
                )
                if created.rowcount:
                    break
                running = await conn.execute(
                    text(f"SELECT * FROM {self.table} WHERE state = 'running'")
                )
                row = running.first()
                if row is not None:
                    return self._job(row), False
                # The running job finished between the two statements: start this one after all.
        return await self.get(job_id), True

    async def progress(self, job_id: str, projections: list[ProjectionProgress]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    f"UPDATE {self.table} SET projections = CAST(:p AS jsonb), updated_at = now()"
                    " WHERE id = :id AND state = 'running'"
                ),
                {"id": job_id, "p": _progress.encode(projections).decode()},
            )

    async def finish(self, job_id: str, error: str | None = None) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    f"UPDATE {self.table} SET state = :state, error = :error,"
                    " finished_at = now(), updated_at = now() WHERE id = :id"
                ),
                {"id": job_id, "state": "failed" if error else "done", "error": error},
            )

    async def get(self, job_id: str) -> RebuildJob | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    text(f"SELECT * FROM {self.table} WHERE id = :id"), {"id": job_id}
                )
            ).first()
            if row is None:
                return None
            stale = await conn.scalar(
                text(f"SELECT now() - make_interval(secs => {STALE_S}) > :at"),
                {"at": row.updated_at},
            )
        job = self._job(row)
        if job.state == "running" and stale:
            return msgspec.structs.replace(job, state="failed", error=STOPPED)
        return job

    def _job(self, row) -> RebuildJob:
        return RebuildJob(
            id=row.id,
            service=self.service,
            state=row.state,
            projections=msgspec.convert(row.projections, list[ProjectionProgress]),
            error=row.error,
            started_at=_iso(row.started_at),
            finished_at=_iso(row.finished_at) if row.finished_at else None,
        )


def _iso(at: datetime) -> str:
    return at.isoformat()
