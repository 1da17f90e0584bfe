"""A second gateway for tests whose settings must name its own address: passkeys (the
relying party and origin are where the browser opens the console, and a browser refuses
passkeys on an IP address, so that is `localhost:<port>`) and GitHub's callback URL.

It serves the session's services over the same NATS, in this process, until the block ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import uvicorn

from runtime.devstack.util import free_port
from runtime.settings import Settings
from tests.support.waiting import until


@asynccontextmanager
async def gateway_at(settings_for: Callable[[int], Settings]) -> AsyncIterator[Settings]:
    """Serve a gateway on a free port with `settings_for(port)`; yields those settings."""
    from gateway.app import create_app

    port = free_port()
    settings = settings_for(port)
    # as `python -m gateway` serves it: uvicorn reads no proxy headers itself (only
    # SIMTUNE_TRUSTED_PROXIES decides whose address a request comes from)
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", proxy_headers=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    def started() -> bool:
        if task.done():
            task.result()  # a start that failed raises here
        return server.started

    try:
        await until(started, timeout=30.0, what="the second gateway starting")
        yield settings
    finally:
        server.should_exit = True
        await task
