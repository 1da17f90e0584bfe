"""Services running inside this process, wired exactly as `python -m services.<context>` does."""

from __future__ import annotations

import importlib

from runtime.service import ServiceHost
from runtime.settings import Settings


async def start_service(settings: Settings, context: str, embedder=None) -> ServiceHost:
    """Start one service; the knowledge service can share an already loaded embedder."""
    module = importlib.import_module(f"services.{context}.wiring")
    host = ServiceHost(context, context, settings)
    await host.connect()
    if context == "knowledge":
        await module.build(host, embedder)
    else:
        await module.build(host)
    await host.start()
    return host
