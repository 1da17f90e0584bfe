"""Operations: the projections' state, and rebuilding them from the event log as a job."""

from __future__ import annotations

import msgspec
from litestar import Response, get, post

from contracts.base import ComponentHealth, GetRebuildJob, RebuildJob, RebuildProjections
from gateway.admin.probes import known_service, reports
from gateway.backend import Backend
from gateway.http.errors import error_responses

JOB_PATH = "/api/admin/projections/{service}/rebuild/{job_id}"


class ProjectionsOverview(msgspec.Struct, frozen=True, kw_only=True):
    """Every projection of every service that answered: checkpoint, lag and state."""

    projections: list[ComponentHealth]
    not_answering: list[str] = []  # services that did not report


@get(
    "/api/admin/projections",
    summary="Every projection: its checkpoint per stream, its lag and its state",
    responses=error_responses(503),
)
async def list_projections(backend: Backend) -> ProjectionsOverview:
    found, silent = await reports(backend)
    projections = [c for c in found if c.kind == "projection"]
    return ProjectionsOverview(projections=projections, not_answering=silent)


@post(
    "/api/admin/projections/{service:str}/rebuild",
    status_code=202,
    summary="Start rebuilding a service's read models from the event log",
    description=(
        "The log is replayed into shadow tables that replace the live ones in one transaction"
        " when complete, so reads go on meanwhile. Answers at once with the job; follow it at"
        " the `Location` it names. If a rebuild of that service is already running, that one"
        " is answered."
    ),
    responses=error_responses(404, 503),
)
async def rebuild_projections(service: str, backend: Backend) -> Response[RebuildJob]:
    job = await backend.send(RebuildProjections(), context=known_service(service))
    location = JOB_PATH.format(service=service, job_id=job.id)
    return Response(job, status_code=202, headers={"Location": location})


@get(
    "/api/admin/projections/{service:str}/rebuild/{job_id:str}",
    summary="How far a rebuild has come (state running, done or failed)",
    responses=error_responses(404, 503),
)
async def rebuild_job(service: str, job_id: str, backend: Backend) -> RebuildJob:
    return await backend.ask(GetRebuildJob(job_id=job_id), context=known_service(service))


ROUTES = [list_projections, rebuild_projections, rebuild_job]
