"""Your data: export it as one archive, import an archive into this Simtune.

`POST /api/me/export` starts an export job (202 with its id and progress), `GET
/api/me/export/{job_id}` follows it, `…/download` streams the finished ZIP (checked against
its sha256 first). `POST /api/me/import` receives an archive (multipart, streamed to a
spooled file and on to the `account-imports` bucket as it arrives, at most
`MAX_ARCHIVE_BYTES`); the accounts service checks it against its manifest before any job
starts, so a damaged or foreign archive answers 400 with the sentence that names its file.
`GET /api/me/import/{job_id}` follows the restore and, at the end, its report.

Every job is looked up under the signed-in person's tenant: another person's job id answers
404 as an unknown one does. The console's "Your data" section on the account page uses the
same messages (`/ui/account/data/…`), polling a job every second while it runs.
"""

from __future__ import annotations

import uuid

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Stream, Template

from contracts import accounts
from contracts.accounts import EXPORTS_BUCKET, MAX_ARCHIVE_BYTES, UPLOADS_BUCKET, DataJob
from contracts.base import DomainError, ErrorCode, ObjectRef
from gateway.accounts.access import signed_in
from gateway.backend import Backend
from gateway.http.downloads import export_download
from gateway.http.errors import error_responses
from gateway.http.multipart_stream import Part, boundary_of, human_size, read_parts

OVERHEAD = 64 * 1024  # multipart headers and boundaries, generously
ZIP_MAGIC = b"PK\x03\x04"
JOB_TIMEOUT_S = 120.0  # an import's archive is read and hashed whole before the job starts


class JobOut(msgspec.Struct, frozen=True, kw_only=True):
    """An export or import job as the API shows it."""

    job_id: str
    kind: str
    status: str  # running | ready (an export to download) | done (an import) | failed | expired
    progress: float  # 0..1
    done: int
    total: int
    stage: str = ""
    error: str | None = None
    download_url: str | None = None  # a finished export's archive
    counts: dict[str, int] = {}
    restored: list[accounts.ImportItem] = []
    skipped: list[accounts.ImportItem] = []
    kept: dict[str, int] = {}  # import: what stays in the archive only (traces, runs, history)
    created_at: str = ""
    updated_at: str = ""


def job_out(job: DataJob) -> JobOut:
    ready = job.kind == "export" and job.status == "done"
    return JobOut(
        job_id=job.id, kind=job.kind, status="ready" if ready else job.status,
        progress=round(job.progress, 4), done=job.done, total=job.total, stage=job.stage,
        error=job.error, download_url=f"/api/me/export/{job.id}/download" if ready else None,
        counts=job.counts, restored=job.restored, skipped=job.skipped, kept=job.kept,
        created_at=job.created_at, updated_at=job.updated_at,
    )  # fmt: skip


async def start_export(backend: Backend) -> DataJob:
    return await backend.ask(accounts.ExportMyData(user_id=signed_in(backend).user_id))


async def job_of(backend: Backend, kind: str, job_id: str) -> DataJob:
    return await backend.ask(accounts.GetDataJob(job_id=job_id, kind=kind))


async def receive_archive(request: Request, backend: Backend) -> DataJob:
    """The uploaded archive, stored and handed to the accounts service, which checks it
    whole before it starts the import; DomainError (400/413) for what cannot be imported."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_ARCHIVE_BYTES + OVERHEAD:
        raise too_large(int(length))
    boundary = boundary_of(request.headers.get("content-type"))
    parts = await read_parts(
        request.stream(),
        boundary,
        limit=MAX_ARCHIVE_BYTES,
        total_limit=MAX_ARCHIVE_BYTES + OVERHEAD,
    )
    try:
        archive = only_archive(parts)
        archive.file.seek(0)
        name = f"{backend.tenant}/{archive.sha256}-{uuid.uuid4().hex}"
        ref: ObjectRef = await backend.objects.put(
            UPLOADS_BUCKET, name, archive.file, known=(archive.sha256, archive.size),
            tenant=backend.tenant,
        )  # fmt: skip
    finally:
        for part in parts:
            part.close()
    cmd = accounts.ImportMyData(user_id=signed_in(backend).user_id, archive=ref)
    return await backend.ask(cmd, timeout=JOB_TIMEOUT_S)


def only_archive(parts: list[Part]) -> Part:
    if not parts:
        raise DomainError(ErrorCode.INVALID, "send the archive as the multipart `file` part")
    if len(parts) > 1:
        raise DomainError(ErrorCode.INVALID, "send one archive at a time")
    part = parts[0]
    if part.size == 0:
        raise DomainError(
            ErrorCode.INVALID, f"{part.filename} is empty: there is nothing to import"
        )
    if not part.head.startswith(ZIP_MAGIC):
        raise DomainError(
            ErrorCode.INVALID,
            f"{part.filename} is not a ZIP archive: import the file that “Export my data” made",
        )
    return part


def too_large(size: int) -> DomainError:
    return DomainError(
        ErrorCode.TOO_LARGE,
        f"this archive is {human_size(size)}; an archive may be at most {human_size(MAX_ARCHIVE_BYTES)}",
    )


async def archive_of(backend: Backend, job_id: str) -> Stream:
    job = await job_of(backend, "export", job_id)
    if job.status == "expired":
        raise DomainError(
            ErrorCode.NOT_FOUND, "this export is no longer kept: export your data again"
        )
    if job.status != "done" or job.archive is None:
        raise DomainError(ErrorCode.CONFLICT, "this export is not finished yet")
    ready = Ready(object=job.archive, filename=job.filename)
    return await export_download(backend, EXPORTS_BUCKET, ready, "application/zip")


class Ready(msgspec.Struct, frozen=True, kw_only=True):
    object: ObjectRef
    filename: str


def accepted(job: DataJob, kind: str) -> Response[JobOut]:
    return Response(job_out(job), status_code=202, headers={"Location": f"/api/me/{kind}/{job.id}"})


# ---- the JSON API -----------------------------------------------------------------------------


@post(
    "/api/me/export",
    status_code=202,
    summary="Export my data: start making one archive of everything you made",
    description="Answers at once with the job; follow `GET /api/me/export/{job_id}` until"
    " `status` is `ready`, then download the ZIP at `download_url`. An export asked for while"
    " your previous one still runs answers that one. A new export lets the previous"
    " archive go; an archive is kept for a day.",
)
async def export_data(backend: Backend) -> Response[JobOut]:
    return accepted(await start_export(backend), "export")


@get("/api/me/export/{job_id:str}", summary="An export job: its status and progress",
     responses=error_responses(404))  # fmt: skip
async def export_job(job_id: str, backend: Backend) -> JobOut:
    return job_out(await job_of(backend, "export", job_id))


@get(
    "/api/me/export/{job_id:str}/download",
    summary="The finished export (a ZIP with manifest.json first)",
    responses=error_responses(404, 409),
    media_type="application/zip",
)
async def export_download_route(job_id: str, backend: Backend) -> Stream:
    return await archive_of(backend, job_id)


@post(
    "/api/me/import",
    status_code=202,
    request_max_body_size=None,
    summary="Import an archive made by “Export my data”: restore its experts here",
    description="Multipart, the ZIP in the `file` part. The archive is checked against its"
    " manifest (every file's size and sha256) before anything is made: a damaged one is a"
    " 400 naming the file. Then a job restores each expert (profile, style guide, documents,"
    " adapters and the active one, custom benchmark questions, dataset versions); follow"
    " `GET /api/me/import/{job_id}` for its progress and report.",
    responses=error_responses(400, 413),
)
async def import_data(request: Request, backend: Backend) -> Response[JobOut]:
    return accepted(await receive_archive(request, backend), "import")


@get("/api/me/import/{job_id:str}", summary="An import job: its progress and report",
     responses=error_responses(404))  # fmt: skip
async def import_job(job_id: str, backend: Backend) -> JobOut:
    return job_out(await job_of(backend, "import", job_id))


API_ROUTES = [export_data, export_job, export_download_route, import_data, import_job]


# ---- the console ------------------------------------------------------------------------------


def panel(job: DataJob | None = None, error: str | None = None, status_code: int = 200) -> Template:
    context = {"job": job, "out": job_out(job) if job else None, "error": error}
    return Template("partials/data_job.html", context=context, status_code=status_code)


@post("/ui/account/data/export", include_in_schema=False)
async def export_page(backend: Backend) -> Template:
    return panel(await start_export(backend))


@post("/ui/account/data/import", include_in_schema=False, request_max_body_size=None)
async def import_page(request: Request, backend: Backend) -> Template:
    try:
        return panel(await receive_archive(request, backend))
    except DomainError as exc:
        if exc.status >= 500:
            raise
        return panel(error=exc.detail, status_code=200)


@get("/ui/account/data/{kind:str}/{job_id:str}", include_in_schema=False)
async def job_page(kind: str, job_id: str, backend: Backend) -> Template:
    if kind not in ("export", "import"):
        raise DomainError(ErrorCode.NOT_FOUND, "there is no such job")
    return panel(await job_of(backend, kind, job_id))


PAGE_ROUTES = [export_page, import_page, job_page]
