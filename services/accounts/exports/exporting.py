"""The export job: long work off the `accounts.export` work queue, started by `ExportRequested`.

Everything is gathered into a staging folder (`gathering.py`), then packed into one ZIP with
`manifest.json` first, stored in the `account-exports` bucket as `<tenant>/<job_id>.zip`, and
`ExportFinished` names it. Progress (`done`/`total` sections) goes on the log as
`ExportProgressed`. A job interrupted by a restart is redelivered and starts again from the
services (nothing half-made is kept: the archive is stored once, at the end); one that fails
every attempt, or whose worker died each time, is decided as `ExportFailed` with a sentence.
A finished export lets the person's earlier archives go (`ExportExpired`).
"""

from __future__ import annotations

import asyncio
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from contracts.accounts import (
    CONTEXT,
    EXPORT_AGGREGATE,
    EXPORTS_BUCKET,
    MANIFEST,
    ExportFailed,
    ExportFinished,
    ExportProgressed,
    ExportRequested,
    Manifest,
)
from contracts.base import DomainError
from runtime.aggregate import AggregateType
from runtime.eventstore import RecordedEvent
from runtime.logs import get_logger
from runtime.reactor import Progress
from runtime.service import Hosted, ServiceHost
from services.accounts.exports import domain, views
from services.accounts.exports.aggregates import EXPORT, end_job
from services.accounts.exports.expiry import expire
from services.accounts.exports.gathering import SECTIONS, Gatherer, Staging

log = get_logger(__name__)
STORED_SUFFIXES = (".gz", ".zip", ".pdf", ".docx", ".png", ".jpg", ".jpeg")  # already compressed


def work_root(host: ServiceHost) -> Path:
    """Where exports and imports are staged: removed when the job ends, and by the sweeper
    when a process died mid-job."""
    return host.settings.home / "accounts" / "data-jobs"


def job_folder(host: ServiceHost, kind: str, job_id: str) -> Path:
    """Where one data job (`kind` "export" or "import") is staged."""
    return work_root(host) / f"{kind}-{job_id}"


async def fresh_folder(
    host: ServiceHost, job: AggregateType, rec: RecordedEvent, kind: str
) -> Path | None:
    """The work folder of a data job still running on `job`, made empty (a restarted job
    starts again); None when the job finished or failed before this delivery."""
    state, _ = await job.load(host.store, rec.tenant, rec.event.job_id)
    if not domain.running(state):
        return None
    folder = job_folder(host, kind, rec.event.job_id)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def stopped_each_time(host: ServiceHost, error: BaseException) -> str:
    """Why a data job gave up, for the person: every delivery of it stopped on `error`."""
    return (
        f"Simtune tried {host.settings.max_deliveries} times and it stopped each time"
        f" ({type(error).__name__})"
    )


class ExportJob(Hosted):
    async def on_export(self, rec: RecordedEvent, progress: Progress) -> None:
        if not isinstance(rec.event, ExportRequested):
            return
        folder = await fresh_folder(self.host, EXPORT, rec, "export")
        if folder is None:
            return  # finished or failed before a redelivery
        try:
            outcome = await self.make(rec, folder, progress)
        except DomainError as exc:  # a service refused (an object gone, a view behind...)
            outcome = ExportFailed(job_id=rec.event.job_id, reason=failure(exc.detail))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(outcome, ExportFinished):  # the earlier archives go before the new one
            await self.expire_others(rec.tenant, keep=rec.event.job_id)  # is shown ready
        await self.end(rec, outcome)

    async def make(self, rec: RecordedEvent, folder: Path, progress: Progress) -> ExportFinished:
        ev, tenant = rec.event, rec.tenant
        staging = Staging(folder / "files")
        gather = Gatherer(self.host.nc, self.host.objects, tenant, staging)
        experts = await gather.experts()
        total, done = len(experts) * SECTIONS + 1, 0

        async def tick(stage: str) -> None:
            nonlocal done
            done += 1
            await progress()
            step = ExportProgressed(job_id=ev.job_id, done=done, total=total, stage=stage[:120])
            await self.host.store.append(
                CONTEXT, tenant, EXPORT_AGGREGATE, ev.job_id, step, expected_seq=None
            )

        await self.host.store.append(
            CONTEXT, tenant, EXPORT_AGGREGATE, ev.job_id,
            ExportProgressed(job_id=ev.job_id, done=0, total=total, stage="starting"),
            expected_seq=None,
        )  # fmt: skip
        for n, expert in enumerate(experts, start=1):
            await gather.expert(
                expert, lambda what, n=n: tick(f"expert {n} of {len(experts)}: {what}")
            )
        counts = {k: staging.counts.get(k, 0) for k in COUNTED}
        archive = folder / "archive.zip"
        await asyncio.to_thread(pack, staging, counts, archive)
        with archive.open("rb") as file:
            ref = await self.host.objects.put(
                EXPORTS_BUCKET, f"{tenant}/{ev.job_id}.zip", file, tenant=tenant
            )
        await tick("packed")
        return ExportFinished(
            job_id=ev.job_id, archive=ref, counts=counts, files=len(staging.files) + 1
        )

    async def end(self, rec: RecordedEvent, outcome) -> None:
        """The job's last word, once (a redelivery decides nothing)."""
        await end_job(self.host.store, EXPORT, rec, outcome)

    async def expire_others(self, tenant: str, keep: str) -> None:
        """A new archive replaces the person's earlier ones."""
        rows = await self.host.read_now(
            lambda conn: views.finished_exports(conn, tenant=tenant, but=keep)
        )
        for row in rows:
            await expire(self.host, row.tenant, row.id, row.archive["name"])

    async def gave_up(self, rec: RecordedEvent, error: BaseException) -> None:
        """Every attempt failed (or the worker died each time): the export is decided as
        failed, with a sentence a person can act on."""
        if not isinstance(rec.event, ExportRequested):
            return
        reason = failure(f"{stopped_each_time(self.host, error)}; start the export again")
        shutil.rmtree(job_folder(self.host, "export", rec.event.job_id), ignore_errors=True)
        await self.end(rec, ExportFailed(job_id=rec.event.job_id, reason=reason))


COUNTED = ("experts", "documents", "traces", "feedback", "datasets", "adapters",
           "benchmark_runs", "questions")  # fmt: skip


def pack(staging: Staging, counts: dict[str, int], archive: Path) -> None:
    """The ZIP: `manifest.json` first, then every staged file (compressed unless it already
    is). Blocking: run in a worker thread."""
    manifest = Manifest.of(datetime.now(UTC).isoformat(timespec="seconds"), counts, staging.files)
    encoded = msgspec.json.format(msgspec.json.encode(manifest), indent=2)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.writestr(MANIFEST, encoded)
        for path in manifest.files:
            stored = path.endswith(STORED_SUFFIXES)
            zf.write(
                staging.root / path,
                path,
                compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED,
            )


def failure(detail: str) -> str:
    return f"The export could not be made: {detail}"[:1000]
