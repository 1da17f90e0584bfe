"""The gateway: Simtune's HTTP face (JSON API, SSE, pages), a NATS client of the services.

The routes come from `gateway.api` (JSON API, one module per context) and `gateway.console`
(htmx pages, likewise); the modules at the top of `gateway/` are what both share.

`create_app(settings, nc=None)`: with `nc` the app uses that connection (and leaves it
open); without, it connects to `settings.nats_url` on startup and closes on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from nats.aio.client import Client as NATS

from gateway import api, console
from gateway.backend import Backend
from gateway.errors import EXCEPTION_HANDLERS
from gateway.hub import EventHub
from gateway.observability import observe
from gateway.security import guard
from gateway.templating import environment, static_routers, template_config
from runtime.logs import get_logger, redact_url
from runtime.settings import Settings
from runtime.settings import settings as load_settings

log = get_logger(__name__)

JSON_BODY_LIMIT = 1024 * 1024  # JSON bodies; the upload routes stream with their own limits
VERSION = "0.1.0"


def provide_backend(state: State) -> Backend:
    return state.backend


def create_app(settings: Settings | None = None, nc: NATS | None = None) -> Litestar:
    settings = settings or load_settings()
    env = environment()

    @asynccontextmanager
    async def connect(app: Litestar) -> AsyncIterator[None]:
        conn = nc or await nats.connect(
            settings.nats_url, name="simtune-gateway", max_reconnect_attempts=-1
        )
        hub = EventHub(conn)
        await hub.start()
        app.state.backend = Backend(conn, settings, hub)
        log.info("gateway.started", nats=redact_url(settings.nats_url))
        try:
            yield
        finally:
            await hub.stop()
            if nc is None:
                await conn.close()
            log.info("gateway.stopped")

    return Litestar(
        route_handlers=[*api.ROUTES, *console.ROUTES, *static_routers()],
        dependencies={"backend": Provide(provide_backend, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[observe, DefineMiddleware(guard, allowed_hosts=settings.allowed_hosts)],
        template_config=template_config(env),
        openapi_config=OpenAPIConfig(
            title="Simtune",
            version=VERSION,
            description="Turn your own documents into a personal domain-expert LLM.",
            path="/schema",
        ),
        lifespan=[connect],
        state=State({"jinja": env, "settings": settings}),
        request_max_body_size=JSON_BODY_LIMIT,
    )
