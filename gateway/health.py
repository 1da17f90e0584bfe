"""`GET /health`: NATS connected, every service answering its micro PING, and no
projection stuck or reactor failed (each service reports its own over `qry.<ctx>.health`)."""

from __future__ import annotations

import asyncio

from litestar import get
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response

from contracts.base import ComponentHealth
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


async def reports(backend: Backend, services=SERVICES) -> tuple[list[ComponentHealth], list[str]]:
    """Every projection and reactor of the services that answer; those that did not."""
    replies = await asyncio.gather(
        *(backend.service_health(s) for s in services), return_exceptions=True
    )
    found = [c for r in replies if not isinstance(r, BaseException) for c in r.components]
    silent = [s for s, r in zip(services, replies, strict=True) if isinstance(r, BaseException)]
    return found, silent


async def problems(backend: Backend) -> list[ComponentHealth]:
    """The stuck projections and failed reactors, for the console's banner."""
    if not backend.nc.is_connected:
        return []
    found, _ = await reports(backend)
    return [c for c in found if c.failing]


@get(
    "/health",
    tags=["operations"],
    summary="Is the gateway connected, is every service answering, is any projection stuck?",
    responses={503: ResponseSpec(data_container=Health, description="what is down")},
)
async def health(backend: Backend) -> Response[Health]:
    down = await down_services(backend)
    if down == ["nats"]:
        body = Health(status="down", down=down, error="unavailable", detail="the gateway lost NATS")
        return Response(body, status_code=503)
    found, _ = await reports(backend, [s for s in SERVICES if s not in down])
    failing = [c for c in found if c.failing]
    if not down and not failing:
        return Response(Health(status="ok", components=found))
    reasons = [f"not answering: {', '.join(down)}"] if down else []
    reasons += [f"{c.name}: {c.detail or c.state}" for c in failing]
    body = Health(
        status="down",
        down=down + [c.name for c in failing],
        error="unavailable",
        detail="; ".join(reasons),
        components=found,
    )
    return Response(body, status_code=503)
