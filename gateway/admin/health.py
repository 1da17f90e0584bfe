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


class Probe(msgspec.Struct, frozen=True, kw_only=True):
    status: str  # "ok" | "failing"
    checks: dict[str, str]  # what was checked -> its state ("nats": "connected")


def _answer(checks: dict[str, str], ok: bool) -> Response[Probe]:
    return Response(
        Probe(status="ok" if ok else "failing", checks=checks), status_code=200 if ok else 503
    )


# The gateway process's own probes (the services' are `runtime.probes`): `/health` asks every
# service, so a kubelet restarting or unlisting a gateway pod on it would do so for another
# pod's trouble. Public like `/health`, kept out of the API document (nobody's data, no API).
@get("/livez", opt={"public": True}, include_in_schema=False, cache=False)
async def livez() -> Response[Probe]:
    """The process answers HTTP: its event loop and server run."""
    return _answer({"http": "serving"}, True)


@get("/readyz", opt={"public": True}, include_in_schema=False, cache=False)
async def readyz(backend: Backend) -> Response[Probe]:
    """Its NATS connection is up and the hub of projected events (SSE) is subscribed."""
    nats_up = backend.nc.is_connected
    hub_up = backend.hub.running
    checks = {
        "nats": "connected" if nats_up else "disconnected",
        "hub": "running" if hub_up else "stopped",
    }
    return _answer(checks, nats_up and hub_up)


ROUTES = [health, livez, readyz]
