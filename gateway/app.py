"""The gateway: Simtune's HTTP face (JSON API, SSE, pages), a NATS client of the services.

One package per bounded context (`expert` with its `answers`, `ingest`, `knowledge`,
`dataset`, `trainer`, `registry`, `benchmark`, `admin`), each holding that context's JSON
routes, console pages, forms and views and ending with `ROUTES`; a new context is one import
and one line below. `http` is the HTTP plumbing they share, `sse` the Server-Sent Events
plumbing, `accounts` who is signed in (every request passes its `authenticate`), `backend` the one door to the services.

`create_app(settings, nc=None)`: with `nc` the app uses that connection (and leaves it
open); without, it connects to `settings.nats_url` on startup and closes on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from nats.aio.client import Client as NATS

from gateway import (
    accounts,
    admin,
    benchmark,
    community,
    dataset,
    expert,
    ingest,
    knowledge,
    registry,
    sse,
    trainer,
)
from gateway.accounts.authentication import PRINCIPAL, authenticate
from gateway.backend import Backend
from gateway.http import moved
from gateway.http.errors import EXCEPTION_HANDLERS, document_errors
from gateway.http.observability import observe
from gateway.http.security import guard
from gateway.http.templating import environment, static_routers, template_config
from gateway.sse.hub import EventHub
from runtime.logs import get_logger, redact_url
from runtime.nats_auth import GATEWAY, connect_options
from runtime.settings import Settings
from runtime.settings import settings as load_settings

log = get_logger(__name__)

JSON_BODY_LIMIT = 1024 * 1024  # JSON bodies; the upload routes stream with their own limits
VERSION = "0.1.0"
ROUTES = [
    *expert.ROUTES,  # /api/experts, /api/.../ask|drafts|traces|backend, /v1/..., /, /experts/{id}
    *ingest.ROUTES,  # /api/experts/{id}/documents, /api/documents/{id}, /ui/.../documents
    *knowledge.ROUTES,  # /api/experts/{id}/search, /ui/experts/{id}/search
    *dataset.ROUTES,  # /api/.../datasets, /experts/{id}/datasets, /datasets/{id}
    *trainer.ROUTES,  # /api/finetune, /experts/{id}/trainer, /trainer/{run}
    *registry.ROUTES,  # /api/lora, /experts/{id}/registry, /ui/registry/{adapter}
    *benchmark.ROUTES,  # /api/benchmark, /experts/{id}/benchmark, /benchmark/{run}
    *community.ROUTES,  # /api/templates, /api/community/templates, /v1/templates
    *admin.ROUTES,  # /health, /api/admin/projections
    *accounts.ROUTES,  # /api/auth, /api/admin/users, /signin, /setup, /account
    *sse.ROUTES,  # /api/events
    *moved.ROUTES,  # the old console URLs, redirected
]


def provide_backend(request: Request) -> Backend:
    """The app's backend acting for the person signed in (the `authenticate` middleware put
    them in the request's state); on public routes, acting for nobody."""
    principal = request.scope.get("state", {}).get(PRINCIPAL)
    backend: Backend = request.app.state.backend
    return backend.acting_for(principal) if principal is not None else backend


def create_app(
    settings: Settings | None = None, nc: NATS | None = None, *, sign_in_required: bool = True
) -> Litestar:
    """The gateway. `sign_in_required=False` leaves out the `authenticate` middleware: only
    for `benchmarks/auth.py`, which measures what signing in adds to a request; no setting
    or environment variable turns it off."""
    settings = settings or load_settings()
    env = environment()

    @asynccontextmanager
    async def connect(app: Litestar) -> AsyncIterator[None]:
        conn = nc or await nats.connect(
            settings.nats_servers,
            name="simtune-gateway",
            max_reconnect_attempts=-1,
            **connect_options(settings, GATEWAY),  # commands and queries; never an event
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

    app = Litestar(
        route_handlers=[*ROUTES, *static_routers()],
        dependencies={"backend": Provide(provide_backend, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            observe,
            DefineMiddleware(guard, allowed_hosts=settings.allowed_hosts),
            *([authenticate] if sign_in_required else []),
        ],
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
    document_errors(app)
    return app
