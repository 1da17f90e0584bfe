"""The host every service process runs in: connections, streams, projectors, reactors and
endpoints, started and stopped in the right order; the health query and rebuild jobs.

Every background loop is supervised: one that ends unexpectedly calls `fatal`, which
logs it and ends the process (exit status 70), so its supervisor starts a fresh one.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import nats
from nats.aio.client import Client as NATS
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.base import (
    DomainError,
    ErrorCode,
    GetHealth,
    GetRebuildJob,
    NewObjectKey,
    OpenObjectKey,
    ProjectionsRebuilt,
    Query,
    RebuildJob,
    RebuildProjections,
    ServiceHealth,
)
from contracts.events import STREAMS
from runtime import db, telemetry
from runtime.eventstore import EventStore, stream_for
from runtime.health import service_health
from runtime.jobs import Jobs
from runtime.keyring import Keyring
from runtime.logs import configure_logging, get_logger
from runtime.nats_auth import connect_options
from runtime.object_keys import LocalObjectKeys, ObjectKeyEndpoints
from runtime.objects import Objects
from runtime.probes import ProbeServer, serve_probes
from runtime.projection import Projection
from runtime.projector import Pacing, Projector
from runtime.reactor import Handler, Reactor
from runtime.rebuild_job import run_rebuild_job
from runtime.rpc import Endpoints, not_found
from runtime.sealing import Sealer
from runtime.secrets import SecretBox
from runtime.settings import Settings, SettingsError
from runtime.settings import settings as load_settings

log = get_logger(__name__)
STOP_STEP_S = 15.0  # how long one step of stopping a service may take
T = TypeVar("T")

READ_YOUR_WRITES_S = 5.0  # how long a query with `after_seq` waits for its projections
EXIT_LOOP_DIED = 70  # EX_SOFTWARE: the supervisor restarts the process


class ServiceHost:
    def __init__(self, name: str, context: str, settings: Settings) -> None:
        self.name, self.context, self.settings = name, context, settings
        self.schema = context
        self.stream = stream_for(context)  # the stream this service appends to
        self.nc: NATS | None = None
        self.engine: AsyncEngine | None = None
        self.projectors: dict[str, Projector] = {}
        self.reactors: list[Reactor] = []
        self.pacing = Pacing(
            parked_retry_s=settings.stuck_retry_s, outage_retry_s=settings.outage_retry_s
        )
        self._owns_nc = False
        self._pending_projections: list[Projection] = []
        self._pending_reactors: list[dict] = []
        self._jobs: dict[str, asyncio.Task] = {}
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        self._after_rebuild: list[Callable[[], Awaitable[None]]] = []
        self._pending_loops: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        self._loops: list[asyncio.Task] = []
        self._probes: ProbeServer | None = None

    async def connect(self, nc: NATS | None = None, engine: AsyncEngine | None = None) -> None:
        if nc is None:
            nc = await nats.connect(
                self.settings.nats_servers,
                name=self.name,
                max_reconnect_attempts=-1,
                **connect_options(self.settings, self.context),  # its context's NATS user
            )
            self._owns_nc = True
        self.nc = nc
        self.engine = engine or db.make_engine(self.settings.database_url)
        # the tenants' data keys (crypto-shredding): what seals a person's content
        self.keyring = Keyring(
            self.engine, SecretBox.open(self.settings.home, self.settings.secret_key)
        )
        self.js = nc.jetstream()
        self.sealer = Sealer(self.keyring)  # personal content on the log is ciphertext
        self.store = EventStore(self.js, self.sealer, replicas=self.settings.stream_replicas)
        self.objects = Objects(  # sealed for their owner
            self.js, LocalObjectKeys(self.keyring), replicas=self.settings.stream_replicas
        )
        self.endpoints = Endpoints(nc, service=self.name, context=self.context)
        self.jobs = Jobs(self.engine, self.schema, self.name)
        for context in STREAMS:
            await self.store.ensure_stream(context)

    def project(self, projection: Projection) -> None:
        self._pending_projections.append(projection)

    def react(self, name: str, stream: str, handler: Handler, **options) -> None:
        self._pending_reactors.append(dict(name=name, stream=stream, handler=handler, **options))

    def background(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        """A loop that runs while the service does (a scheduler, say), started last and
        stopped first. It is not expected to return: if it ends, the process ends (a
        supervisor starts a fresh one), as with a projector or reactor."""
        self._pending_loops.append((name, loop))

    def after_rebuild(self, derive: Callable[[], Awaitable[None]]) -> None:
        """Something derived from the rebuilt tables (files written from them, say), run at
        the end of every rebuild, before the rebuild is reported done."""
        self._after_rebuild.append(derive)

    def on_stop(self, close: Callable[[], Awaitable[None]]) -> None:
        """Something the service built (a model, a client pool) to close when it stops,
        after its endpoints have stopped taking requests."""
        self._on_stop.append(close)

    def fatal(self, name: str, error: BaseException) -> None:
        """A background loop ended unexpectedly: end the process so it is restarted whole."""
        log.critical("service.loop_died", service=self.name, loop=name, error=repr(error))
        os._exit(EXIT_LOOP_DIED)

    def _on_fatal(self, name: str, error: BaseException) -> None:
        self.fatal(name, error)  # looked up at call time, so a test can replace `fatal`

    @property
    def loops(self) -> tuple[asyncio.Task, ...]:
        """The background loops it started (sweepers, pollers), for its liveness probe."""
        return tuple(self._loops)

    async def start(self) -> None:
        assert self.nc is not None and self.engine is not None, "connect() first"
        await db.ensure_schema(self.engine, self.schema)
        await self.jobs.ensure()
        await self.keyring.ensure()
        for projection in self._pending_projections:
            projector = Projector(
                self.nc,
                self.engine,
                self.schema,
                projection,
                pacing=self.pacing,
                on_fatal=self._on_fatal,
                sealer=self.sealer,
            )
            await projector.start()
            self.projectors[projection.name] = projector
        for options in self._pending_reactors:
            reactor = Reactor(
                self.nc,
                ack_wait_s=self.settings.work_ack_wait_s,
                max_deliver=self.settings.max_deliveries,
                backoff_s=self.settings.retry_backoff_s,
                outage_retry_s=self.settings.outage_retry_s,
                on_fatal=self._on_fatal,
                sealer=self.sealer,
                replicas=self.settings.stream_replicas,
                **options,
            )
            await reactor.start()
            self.reactors.append(reactor)
        self.endpoints.serve(RebuildProjections, self.start_rebuild)
        self.endpoints.serve(GetRebuildJob, self.rebuild_job)
        self.endpoints.serve(GetHealth, self.health)
        # the keys of sealed objects, for a process that has no keyring (the gateway)
        object_keys = ObjectKeyEndpoints(self.keyring)
        self.endpoints.serve(NewObjectKey, object_keys.new_key)
        self.endpoints.serve(OpenObjectKey, object_keys.open_key)
        await self.endpoints.start()
        for name, loop in self._pending_loops:
            task = asyncio.create_task(loop(), name=f"{self.name}-{name}")
            task.add_done_callback(lambda t, n=name: self._loop_ended(n, t))
            self._loops.append(task)
        self._probes = await serve_probes(self)  # GET /livez, /readyz (SIMTUNE_PROBE_PORT)
        log.info("service.started", service=self.name)

    def _loop_ended(self, name: str, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        self._on_fatal(name, task.exception() or RuntimeError(f"the {name} loop returned"))

    # ---- health and rebuilds ----------------------------------------------------------------

    async def health(self, _: GetHealth | None = None) -> ServiceHealth:
        return await service_health(self.name, self.projectors.values(), self.reactors)

    async def start_rebuild(self, _: RebuildProjections | None = None) -> RebuildJob:
        """Start rebuilding every projection (or report the rebuild already running)."""
        job, created = await self.jobs.start(list(self.projectors))
        if created:
            projectors = list(self.projectors.values())
            task = asyncio.create_task(
                run_rebuild_job(self.jobs, job.id, projectors, self._after_rebuild)
            )
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # recorded on the job
            self._jobs[job.id] = task
            task.add_done_callback(lambda _: self._jobs.pop(job.id, None))
        return job

    async def rebuild_job(self, query: GetRebuildJob) -> RebuildJob:
        job = await self.jobs.get(query.job_id)
        if job is None:
            raise not_found(f"rebuild job {query.job_id}")
        return job

    async def rebuild(self, _: RebuildProjections | None = None) -> ProjectionsRebuilt:
        """Rebuild every projection and wait for it (what tests and tools call directly)."""
        job = await self.start_rebuild()
        task = self._jobs.get(job.id)
        if task is None:
            raise DomainError(ErrorCode.CONFLICT, f"a rebuild of {self.name} is already running")
        replayed = await task
        log.info("projections.rebuilt", service=self.name, replayed=replayed)
        return ProjectionsRebuilt(service=self.name, projections=replayed)

    # ---- read-your-writes -------------------------------------------------------------------

    async def caught_up(self, stream: str, seq: int, timeout: float = READ_YOUR_WRITES_S) -> None:
        """Read-your-writes: wait until this service's projections of `stream` reach `seq`;
        a view that does not get there in time answers 503 rather than a stale read."""
        if seq <= 0:
            return
        for projector in self.projectors.values():
            if stream in projector.projection.streams and not await projector.reached(
                stream, seq, timeout
            ):
                raise DomainError(
                    ErrorCode.UNAVAILABLE,
                    f"the {projector.name} view is behind and does not show this change yet;"
                    " try again in a moment",
                )

    async def caught_up_with_log(self, stream: str | None = None, timeout: float = 30.0) -> None:
        """Wait until this service's projections show everything on `stream` (its own by
        default) as it stands now, not just what one command appended."""
        stream = stream or self.stream
        info = await self.js.stream_info(stream)
        await self.caught_up(stream, info.state.last_seq, timeout=timeout)

    async def read_now(self, read: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`read` on one connection once the projections show everything on this service's
        log as it stands now: a reaction's read, which has no `after_seq` to wait for."""
        await self.caught_up_with_log()
        async with self.engine.connect() as conn:
            return await read(conn)

    async def read(
        self,
        query: Query,
        read: Callable[[AsyncConnection], Awaitable[T | None]],
        *,
        missing: str = "",
        stream: str | None = None,
        now: bool = False,
    ) -> T:
        """The shape of every query: wait until the projections show `query.after_seq` of
        `stream` (this service's own by default: read-your-writes), read on one connection, and
        answer 404 naming `missing` ("expert e1") when the read finds nothing. With `now`, wait
        for everything on `stream` as it stands when asked: a read that must show what another
        request (another gateway, another person) wrote a moment ago."""
        stream = stream or self.stream
        if now:
            await self.caught_up_with_log(stream, timeout=READ_YOUR_WRITES_S)
        else:
            await self.caught_up(stream, query.after_seq)
        async with self.engine.connect() as conn:
            found = await read(conn)
        if found is None and missing:
            raise not_found(missing)
        return found

    async def read_by_id(
        self,
        query: Query,
        read: Callable[[AsyncConnection, str, str], Awaitable[T | None]],
        id_: str,
        noun: str,
    ) -> T:
        """`read` of the one thing `query` names by `id_` in its tenant, as `read` above does
        it: 404 naming "<noun> <id_>" when there is none."""
        return await self.read(
            query, lambda conn: read(conn, query.tenant, id_), missing=f"{noun} {id_}"
        )

    async def wait_caught_up(self, timeout: float = 60.0) -> None:
        for projector in self.projectors.values():
            await projector.wait_caught_up(timeout)

    async def stop(self) -> None:
        """Stop everything the service runs. Each step has `STOP_STEP_S`: a piece of work
        that does not end when cancelled (a handler stuck in a call that ignores it) is left
        behind with a warning instead of holding the whole service up; its unacknowledged
        message goes to another replica after the ack wait."""
        if self._probes is not None:  # not live nor ready from here on: nothing answers
            await self._within("probes", self._probes.stop())
        loops, self._loops = self._loops, []
        for task in loops:
            task.cancel()
        await self._within("loops", asyncio.gather(*loops, return_exceptions=True))
        await self._within("endpoints", self.endpoints.stop())
        jobs = list(self._jobs.values())
        for task in jobs:
            task.cancel()  # the job is then reported failed (STOPPED) by any replica
        await self._within("jobs", asyncio.gather(*jobs, return_exceptions=True))
        for reactor in self.reactors:
            await self._within(f"reactor {reactor.name}", reactor.stop())
        for projector in self.projectors.values():
            await self._within("projector", projector.stop())
        for close in reversed(self._on_stop):
            await self._within("closing", close())
        if self._owns_nc and self.nc is not None:
            await self.nc.close()
        if self.engine is not None:
            await self.engine.dispose()
        log.info("service.stopped", service=self.name)

    async def _within(self, what: str, step: Awaitable[Any]) -> None:
        try:
            await asyncio.wait_for(step, STOP_STEP_S)
        except TimeoutError:
            log.warning("service.stop_step_abandoned", service=self.name, step=what, s=STOP_STEP_S)


Build = Callable[[ServiceHost], Awaitable[None]]


class Hosted:
    """The base of a service's handler classes (queries, reactors) whose one dependency is
    the host they run in: `self.host`."""

    def __init__(self, host: ServiceHost) -> None:
        self.host = host


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
