"""`GET /health`: NATS connected and every service answering its micro PING."""

from __future__ import annotations

import asyncio

from litestar import get
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response

from gateway.backend import SERVICES, Backend
from gateway.schemas import Health

PING_TIMEOUT_S = 1.0


async def _answers(backend: Backend, service: str) -> bool:
    try:
        await backend.nc.request(f"$SRV.PING.{service}", b"", timeout=PING_TIMEOUT_S)
    except Exception:
        return False
    return True


async def down_services(backend: Backend) -> list[str]:
    """What is down: "nats", or the services that did not answer a PING."""
    if not backend.nc.is_connected:
        return ["nats"]
    answers = await asyncio.gather(*(_answers(backend, s) for s in SERVICES))
    return [service for service, ok in zip(SERVICES, answers, strict=True) if not ok]


@get(
    "/health",
    tags=["operations"],
    summary="Is the gateway connected and is every service answering?",
    responses={503: ResponseSpec(data_container=Health, description="what is down")},
)
async def health(backend: Backend) -> Response[Health]:
    down = await down_services(backend)
    if not down:
        return Response(Health(status="ok"))
    names = ", ".join(down)
    body = Health(
        status="down",
        down=down,
        error="unavailable",
        detail=f"not answering: {names}" if down != ["nats"] else "the gateway lost NATS",
    )
    return Response(body, status_code=503)
