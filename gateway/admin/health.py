"""`GET /health`: NATS connected, every service answering its micro PING, and no
projection stuck or reactor failed (each service reports its own, asked with `GetHealth`)."""

from __future__ import annotations

import msgspec
from litestar import get
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response

from contracts.base import ComponentHealth
from gateway.admin.probes import SERVICES, down_services, reports
from gateway.backend import Backend


class Health(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    status: str  # "ok" | "down"
    down: list[str] = []  # services not answering, projections stuck, reactors failed
    error: str | None = None
    detail: str | None = None
    components: list[ComponentHealth] = []  # every projection and reactor, as reported


@get(
    "/health",
    opt={"public": True},  # shows no one's data: probes can ask it without a key
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


ROUTES = [health]
