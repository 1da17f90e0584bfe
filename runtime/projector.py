"""The projector: turns a context's event log into read models in Postgres.

Exactly-once effects on at-least-once delivery (see `runtime.applier`): each stream is read
with an `OrderedReader` from the checkpoint + 1 — nothing durable on the server, the
checkpoint in Postgres is the truth — and a batch is applied with its checkpoint in one
transaction. Every replica of a service runs its projector; the checkpoint row lock makes
them take turns, and one that finds the checkpoint past its batch skips it.

An event this build does not know is held (state `waiting`) and decoded again now and
then; one that cannot be applied is retried with backoff, then parked (state `stuck`,
with its sequence, type and error) and retried slowly. Neither is ever skipped, so a live
view and its rebuild cannot differ. A loop that ends unexpectedly calls `on_fatal`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from nats.aio.client import Client as NATS
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.base import ComponentHealth
from runtime import db, telemetry
from runtime.applier import apply_in, recorded
from runtime.consumers import delete_durable, durable_name
from runtime.eventstore import events_of
from runtime.logs import get_logger
from runtime.ordered import OrderedReader
from runtime.projection import Projection
from runtime.projection import announcement as announcement  # where the gateway's replay finds it
from runtime.projector_loop import StreamLoop
from runtime.projector_state import Watch
from runtime.rebuild import ShadowRebuild
from runtime.sealing import Sealer

log = get_logger(__name__)
POLL_S = 0.05  # how often a read-your-writes wait asks the database for the checkpoint

Fatal = Callable[[str, BaseException], None]


@dataclass(frozen=True)
class Pacing:
    attempts: int = 5  # tries of an event that fails before it is parked as stuck
    backoff_s: float = 0.5  # first wait between tries, doubling up to max_backoff_s
    max_backoff_s: float = 30.0
    parked_retry_s: float = 30.0  # how often a stuck projection tries again
    hold_retry_s: float = 5.0  # how often an unknown event is decoded again
    outage_retry_s: float = 5.0  # how often an event stopped by an outage is tried again
    idle_s: float = 1.0  # fetch wait; when idle the reader is checked against the checkpoint


class Projector:
    """Runs one projection: one ordered reader and one apply loop per stream it reads."""

    def __init__(
        self,
        nc: NATS,
        engine: AsyncEngine,
        schema: str,
        projection: Projection,
        *,
        batch_size: int = 256,
        pacing: Pacing = Pacing(),
        on_fatal: Fatal | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        self.nc, self.js = nc, nc.jetstream()
        self.sealer = sealer  # opens the personal content of events (None: plain events only)
        self.engine, self.schema, self.projection = engine, schema, projection
        self.batch_size, self.pacing, self.on_fatal = batch_size, pacing, on_fatal
        self.watch = Watch(projection.name, projection.streams)
        self.rebuilding = False
        self._tasks: list[asyncio.Task] = []
        self.stopping = False  # set by stop(): the stream loops end at their next round
        self._readers: dict[str, OrderedReader] = {}
        self.tracer = telemetry.tracer("simtune.projector")

    @property
    def name(self) -> str:
        return self.projection.name

    @property
    def alive(self) -> bool:
        """Whether its watch and every task it started are still running."""
        return self.watch.running and all(not task.done() for task in self._tasks)

    async def start(self) -> None:
        await db.ensure_extensions(self.engine, getattr(self.projection, "extensions", ()))
        async with self.engine.begin() as conn:
            await db.create_schema(conn, self.schema)
            await db.use_schema(conn, self.schema)
            await self.projection.create(conn)
            await self.projection.indexes(conn)
            for stream in self.projection.streams:
                await db.ensure_checkpoint(conn, self.schema, self.name, stream)
        for stream in self.projection.streams:  # what projectors before ordered readers left
            await delete_durable(self.js, stream, durable_name("proj", self.name))
        if await self._ahead_of_log():
            await self.rebuild(reset=True)
        checkpoints = await self.checkpoints()
        self.stopping = False
        for stream in self.projection.streams:
            reader = OrderedReader(self.js, stream, events_of(stream), batch=self.batch_size)
            await reader.seek(checkpoints[stream] + 1)
            self._readers[stream] = reader
            loop = StreamLoop(self, stream, reader)
            task = asyncio.create_task(loop.run(), name=f"project-{self.name}-{stream}")
            task.add_done_callback(self._ended)
            self._tasks.append(task)
        self.watch.running = True

    async def stop(self) -> None:
        self.watch.running = False
        self.stopping = True  # a loop whose cancellation got lost ends at its next round
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for reader in self._readers.values():
            await reader.close()
        self._readers.clear()

    def _ended(self, task: asyncio.Task) -> None:
        if task.cancelled() or not self.watch.running:
            return
        error = task.exception() or RuntimeError("the loop returned")
        log.critical("projector.died", projection=self.name, error=repr(error))
        self.watch.running = False
        if self.on_fatal is not None:
            self.on_fatal(f"projection {self.name}", error)

    async def rebuild(self, *, reset: bool = False, on_progress=None) -> int:
        """Replay the log into a shadow copy and swap it in; the live view keeps serving."""
        self.rebuilding = True
        try:
            return await ShadowRebuild(self, reset=reset, on_progress=on_progress).run()
        finally:
            self.rebuilding = False

    # ---- reading the checkpoint -------------------------------------------------------------

    async def checkpoints(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            found = await db.peek_checkpoints(conn, self.schema, self.name)
        for stream, seq in found.items():
            self.watch.saw(stream, seq)
        return {s: found.get(s, 0) for s in self.projection.streams}

    async def reached(
        self, stream: str, seq: int, timeout: float = 5.0, *, fail_fast: bool = True
    ) -> bool:
        """Wait until the events of `stream` up to `seq` are in the database (any replica's
        work counts); False on timeout, or at once if the projection is stuck before `seq`
        (unless not `fail_fast`)."""
        clock = asyncio.get_running_loop().time
        deadline = clock() + timeout
        # This process's own loop usually applies the event within milliseconds and says so
        # in memory; the database (where another replica's work shows) is asked only when
        # a poll interval passes without that.
        next_poll = clock() + (POLL_S if self.watch.running else 0.0)
        while self.watch.known(stream) < seq:
            if fail_fast and self.watch.blocked_before(stream, seq):
                return False
            now = clock()
            if now >= next_poll:
                if (await self.checkpoints())[stream] >= seq:
                    return True
                now, next_poll = clock(), clock() + POLL_S
            if now >= deadline:
                return False
            await self.watch.advanced(min(deadline, next_poll) - now)
        return True

    async def wait_caught_up(self, timeout: float = 60.0) -> int:
        """Wait until every stream's checkpoint reaches its last sequence; returns events seen."""
        targets = {
            s: (await self.js.stream_info(s)).state.last_seq for s in self.projection.streams
        }
        for stream, seq in targets.items():
            if not await self.reached(stream, seq, timeout, fail_fast=False):
                trouble = self.watch.trouble.get(stream)
                why = trouble.detail if trouble else f"did not catch up in {timeout:g}s"
                raise TimeoutError(f"{self.name} {why}")
        return sum(targets.values())

    async def _ahead_of_log(self) -> bool:
        checkpoints, ahead = await self.checkpoints(), False
        for stream in self.projection.streams:
            last = (await self.js.stream_info(stream)).state.last_seq
            if checkpoints[stream] > last:
                log.warning(
                    "projection.ahead_of_log",
                    projection=self.name,
                    stream=stream,
                    checkpoint=checkpoints[stream],
                    last_seq=last,
                    action="the event log is older than this read model; rebuilding it from the log",
                )
                ahead = True
        return ahead

    async def health(self) -> ComponentHealth:
        try:
            checkpoints = await self.checkpoints()
            lag = 0
            for stream, seq in checkpoints.items():
                lag += max((await self.js.stream_info(stream)).state.last_seq - seq, 0)
        except Exception as exc:
            return self.watch.health(self.rebuilding, {}, 0, f"cannot read its checkpoint: {exc}")
        return self.watch.health(self.rebuilding, checkpoints, lag)

    def wake(self) -> None:
        """Try a parked or held event again now (after a rebuild or a fix)."""
        self.watch.wake()

    async def _apply_batch(self, stream: str, msgs: list) -> list:
        """Apply raw messages once, outside the loop (tests deliver events a second time)."""
        recs = [await recorded(stream, msg, self.sealer) for msg in msgs]
        async with self.engine.begin() as conn:
            return await apply_in(conn, self.schema, self.projection, stream, recs)
