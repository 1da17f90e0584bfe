"""A service's answer to `qry.<context>.health`: the state of each projection and reactor."""

from __future__ import annotations

import msgspec

from contracts.base import ComponentHealth, ServiceHealth


async def service_health(service: str, projectors, reactors) -> ServiceHealth:
    components = [await p.health() for p in projectors]
    components += [msgspec.convert(r.health(), ComponentHealth) for r in reactors]
    named = [msgspec.structs.replace(c, service=service) for c in components]
    return ServiceHealth(service=service, components=named)
