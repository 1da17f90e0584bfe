"""Asking the services how they are, for `/health`, the projections admin and the console.

NATS connected, every service answering its micro PING, and what each service reports of
its own projections and reactors over `qry.<ctx>.health`.
"""

from __future__ import annotations

import asyncio

from contracts.base import ComponentHealth
from gateway.backend import SERVICES, Backend

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
