"""Operations: rebuild a service's projections from its event log."""

from __future__ import annotations

from litestar import post

from contracts.base import ProjectionsRebuilt
from gateway.backend import Backend
from gateway.errors import error_responses


@post(
    "/api/admin/projections/{service:str}/rebuild",
    status_code=200,
    tags=["operations"],
    summary="Drop a service's read models and replay them from the event log",
    responses=error_responses(404, 503),
)
async def rebuild_projections(service: str, backend: Backend) -> ProjectionsRebuilt:
    return await backend.rebuild(service)
