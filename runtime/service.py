"""The host every service process runs in: connections, streams, projectors, reactors and
endpoints, started and stopped in the right order, plus the `rebuild_projections` command.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import nats
from nats.aio.client import Client as NATS
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.base import ProjectionsRebuilt, RebuildProjections
from contracts.events import STREAMS
from runtime import telemetry
from runtime.db import make_engine
from runtime.eventstore import EventStore
from runtime.logs import configure_logging, get_logger
from runtime.objects import Objects
from runtime.projector import Projection, Projector
from runtime.reactor import Handler, Reactor
from runtime.rpc import Endpoints
from runtime.settings import Settings, SettingsError
from runtime.settings import settings as load_settings

log = get_logger(__name__)


class ServiceHost:
    def __init__(self, name: str, context: str, settings: Settings) -> None:
        self.name, self.context, self.settings = name, context, settings
        self.schema = context
        self.nc: NATS | None = None
        self.engine: AsyncEngine | None = None
        self.projectors: dict[str, Projector] = {}
        self.reactors: list[Reactor] = []
        self._owns_nc = False
        self._pending_projections: list[Projection] = []
        self._pending_reactors: list[dict] = []

    async def connect(self, nc: NATS | None = None, engine: AsyncEngine | None = None) -> None:
        if nc is None:
            nc = await nats.connect(
                self.settings.nats_url, name=self.name, max_reconnect_attempts=-1
            )
            self._owns_nc = True
        self.nc = nc
        self.engine = engine or make_engine(self.settings.database_url)
        self.js = nc.jetstream()
        self.store = EventStore(self.js)
        self.objects = Objects(self.js)
        self.endpoints = Endpoints(nc, service=self.name, context=self.context)
        for context in STREAMS:
            await self.store.ensure_stream(context)

    def project(self, projection: Projection) -> None:
        self._pending_projections.append(projection)

    def react(self, name: str, stream: str, handler: Handler, **options) -> None:
        self._pending_reactors.append(dict(name=name, stream=stream, handler=handler, **options))

    async def start(self) -> None:
        assert self.nc is not None and self.engine is not None, "connect() first"
        for projection in self._pending_projections:
            projector = Projector(self.nc, self.engine, self.schema, projection)
            await projector.start()
            self.projectors[projection.name] = projector
        for options in self._pending_reactors:
            reactor = Reactor(self.nc, ack_wait_s=self.settings.work_ack_wait_s, **options)
            await reactor.start()
            self.reactors.append(reactor)
        self.endpoints.command("rebuild_projections", RebuildProjections, self.rebuild)
        await self.endpoints.start()
        log.info("service.started", service=self.name)

    async def rebuild(self, _: RebuildProjections | None = None) -> ProjectionsRebuilt:
        replayed = {}
        for name, projector in self.projectors.items():
            replayed[name] = await projector.rebuild()
        log.info("projections.rebuilt", service=self.name, replayed=replayed)
        return ProjectionsRebuilt(service=self.name, projections=replayed)

    async def caught_up(self, stream: str, seq: int, timeout: float = 5.0) -> None:
        """Read-your-writes: wait until this service's projections of `stream` reach `seq`."""
        if seq <= 0:
            return
        for projector in self.projectors.values():
            if stream in projector.projection.streams:
                await projector.reached(stream, seq, timeout)

    async def wait_caught_up(self, timeout: float = 60.0) -> None:
        for projector in self.projectors.values():
            await projector.wait_caught_up(timeout)

    async def stop(self) -> None:
        await self.endpoints.stop()
        for reactor in self.reactors:
            await reactor.stop()
        for projector in self.projectors.values():
            await projector.stop()
        if self._owns_nc and self.nc is not None:
            await self.nc.close()
        if self.engine is not None:
            await self.engine.dispose()
        log.info("service.stopped", service=self.name)


Build = Callable[[ServiceHost], Awaitable[None]]


def run_service(name: str, context: str, build: Build) -> None:
    """Entry point of `python -m services.<context>`: run until SIGINT/SIGTERM."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise SystemExit(f"{name}: {exc}") from None
    configure_logging(name, fmt=settings.log_format, level=settings.log_level)
    telemetry.setup_tracing(name, settings.otel_exporter)

    async def main() -> None:
        host = ServiceHost(name, context, settings)
        await host.connect()
        await build(host)
        await host.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await host.stop()

    asyncio.run(main())
