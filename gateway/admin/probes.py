"""Asking the services how they are, for `/health`, the projections admin and the console.

NATS connected, every service answering its micro PING, and what each service reports of
its own projections and reactors (`GetHealth`, asked of each service by name).
"""

from __future__ import annotations

import asyncio

from contracts.base import ComponentHealth, DomainError, ErrorCode, GetHealth, ServiceHealth
from gateway.backend import Backend

SERVICES = (
    "expert",
    "ingest",
    "knowledge",
    "dataset",
    "trainer",
    "registry",
    "benchmark",
    "community",
    "accounts",
)
PING_TIMEOUT_S = 1.0
HEALTH_TIMEOUT_S = 1.0


def known_service(service: str) -> str:
    """The service's name, or a 404 naming the ones there are."""
    if service not in SERVICES:
        raise DomainError(
            ErrorCode.NOT_FOUND,
            f"there is no service called {service!r}; choose one of {', '.join(SERVICES)}",
        )
    return service


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


async def service_health(backend: Backend, service: str) -> ServiceHealth:
    """A service's projections and reactors, as it sees them."""
    return await backend.ask(GetHealth(), timeout=HEALTH_TIMEOUT_S, context=service)


async def reports(backend: Backend, services=SERVICES) -> tuple[list[ComponentHealth], list[str]]:
    """Every projection and reactor of the services that answer; those that did not."""
    replies = await asyncio.gather(
        *(service_health(backend, s) for s in services), return_exceptions=True
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
