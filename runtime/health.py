"""A service's answer to `qry.<context>.health`: the state of each projection and reactor."""

from __future__ import annotations

import inspect

import msgspec

from contracts.base import ComponentHealth, ServiceHealth
from runtime.logs import get_logger

log = get_logger(__name__)


async def reactor_health(reactor) -> ComponentHealth:
    """What the reactor says of itself (`health()`), or whether its tasks still run."""
    report = getattr(reactor, "health", None)
    if report is not None:
        found = report()
        if inspect.isawaitable(found):
            found = await found
        if isinstance(found, ComponentHealth):
            return found
        return msgspec.convert({"kind": "reactor", **found}, ComponentHealth)
    tasks = getattr(reactor, "_tasks", [])
    alive = bool(tasks) and not all(t.done() for t in tasks)
    return ComponentHealth(
        name=reactor.name, kind="reactor", state="running" if alive else "stopped"
    )


async def service_health(service: str, projectors, reactors) -> ServiceHealth:
    components = [await p.health() for p in projectors]
    for reactor in reactors:
        try:
            components.append(await reactor_health(reactor))
        except Exception as exc:  # a report that cannot be read is a failure to show
            log.exception("health.reactor_unreadable", reactor=getattr(reactor, "name", "?"))
            name = getattr(reactor, "name", "?")
            components.append(
                ComponentHealth(name=name, kind="reactor", state="failed", detail=str(exc)[:300])
            )
    named = [msgspec.structs.replace(c, service=service) for c in components]
    return ServiceHealth(service=service, components=named)
