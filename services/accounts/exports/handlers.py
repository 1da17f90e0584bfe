"""The endpoints of the data jobs: start an export, start an import (once the uploaded archive
has passed its manifest's checks), and read a job of one's own.

Each command answers once `accounts.data_jobs` shows the job, so the job id it returns can be
asked about at once. An export asked for while the tenant's previous one still runs answers
that one: one archive at a time per person."""

from __future__ import annotations

import asyncio
import tempfile
import uuid

import msgspec

from contracts.accounts import (
    UPLOADS_BUCKET,
    ArchiveRefused,
    DataJob,
    ExportMyData,
    ExportRequested,
    GetDataJob,
    ImportMyData,
    ImportRequested,
    check_archive,
)
from contracts.base import DomainError, ErrorCode
from runtime.objects import ObjectCorrupt, ObjectMissing
from runtime.rpc import not_found
from runtime.service import ServiceHost
from services.accounts.exports import domain, views
from services.accounts.exports.aggregates import EXPORT, IMPORT

SPOOL_BYTES = 8 * 1024 * 1024


class DataJobHandlers:
    def __init__(self, host: ServiceHost) -> None:
        self.host = host

    async def export_data(self, cmd: ExportMyData) -> DataJob:
        async with self.host.engine.connect() as conn:
            running = await views.running_export(conn, cmd.tenant)
        if running is not None:
            return running
        job_id = uuid.uuid4().hex[:16]
        event = ExportRequested(job_id=job_id, user_id=cmd.user_id)
        outcome = await EXPORT.execute(
            self.host.store, cmd.tenant, job_id, lambda s: domain.decide_request(s, event)
        )
        return await self._shown(cmd.tenant, "export", job_id, outcome.seq)

    async def import_data(self, cmd: ImportMyData) -> DataJob:
        """The archive is read whole and checked against its manifest before any job starts:
        a damaged or foreign archive is refused with the sentence that names its file, and
        the upload goes."""
        if (
            not cmd.archive.name.startswith(f"{cmd.tenant}/")
            or cmd.archive.bucket != UPLOADS_BUCKET
        ):
            raise not_found("this upload")
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as sink:
            try:
                await self.host.objects.read_into(
                    UPLOADS_BUCKET, cmd.archive.name, sink, tenant=cmd.tenant
                )
            except ObjectMissing as exc:
                raise not_found("this upload") from exc
            except ObjectCorrupt as exc:
                await self.host.objects.delete(UPLOADS_BUCKET, cmd.archive.name)
                raise DomainError(
                    ErrorCode.INVALID, "the upload arrived damaged; send it again"
                ) from exc
            try:
                manifest = await asyncio.to_thread(check_archive, sink)
            except ArchiveRefused as exc:
                await self.host.objects.delete(UPLOADS_BUCKET, cmd.archive.name)
                raise DomainError(
                    ErrorCode.INVALID, f"this archive cannot be imported: {exc}"
                ) from exc
        job_id = uuid.uuid4().hex[:16]
        event = ImportRequested(
            job_id=job_id,
            user_id=cmd.user_id,
            archive=cmd.archive,
            experts=manifest.counts.get("experts", 0),
        )
        outcome = await IMPORT.execute(
            self.host.store, cmd.tenant, job_id, lambda s: domain.decide_request(s, event)
        )
        return await self._shown(cmd.tenant, "import", job_id, outcome.seq)

    async def data_job(self, q: GetDataJob) -> DataJob:
        return await self.host.read(
            q,
            lambda conn: views.job(conn, q.tenant, q.kind, q.job_id),
            missing=f"{q.kind} job {q.job_id}",
        )

    async def _shown(self, tenant: str, kind: str, job_id: str, seq: int) -> DataJob:
        await self.host.caught_up(self.host.stream, seq)
        async with self.host.engine.connect() as conn:
            job = await views.job(conn, tenant, kind, job_id)
        assert job is not None  # the projection has applied the request
        return msgspec.structs.replace(job, seq=seq)
