"""The projector: turns a context's event log into read models in Postgres.

Exactly-once effects on at-least-once delivery: a batch of events is applied and the
checkpoint `(projection, stream) -> last stream sequence` is written in the SAME
transaction; anything at or below the checkpoint is skipped; messages are acked only after
the commit. The ack is never trusted for correctness, the checkpoint is. A projection can
be dropped and rebuilt from the log at any time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from nats.aio.client import Client as NATS
from nats.errors import TimeoutError as NatsTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from runtime import db, telemetry
from runtime.codec import UnknownEvent, encode
from runtime.consumers import delete_durable, durable_name, pull
from runtime.eventstore import RecordedEvent, to_recorded
from runtime.logs import get_logger

log = get_logger(__name__)


class Projection(Protocol):
    name: str  # "ingest.documents"
    streams: tuple[str, ...]  # the context streams it reads, e.g. ("INGEST",)
    announce: bool  # publish each applied event on `projected.<stream>.<tenant>` after commit

    async def create(self, conn: AsyncConnection) -> None: ...  # idempotent DDL
    async def drop(self, conn: AsyncConnection) -> None: ...
    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None: ...


def announcement(rec: RecordedEvent, projection: str) -> bytes:
    return encode(
        {
            "stream": rec.stream,
            "seq": rec.seq,
            "type": rec.type,
            "tenant": rec.tenant,
            "aggregate_id": rec.aggregate_id,
            "occurred_at": rec.occurred_at,
            "projection": projection,
            "data": rec.event,
        }
    )


class Projector:
    """Runs one projection: one durable consumer and one apply loop per stream it reads."""

    def __init__(
        self,
        nc: NATS,
        engine: AsyncEngine,
        schema: str,
        projection: Projection,
        *,
        batch_size: int = 256,
        subjects: Callable[[str], str] = lambda stream: f"evt.{stream.lower()}.>",
    ) -> None:
        self.nc, self.js = nc, nc.jetstream()
        self.engine, self.schema, self.projection = engine, schema, projection
        self.batch_size = batch_size
        self._subjects = subjects
        self._tasks: list[asyncio.Task] = []
        self._positions: dict[str, int] = {}
        self._stopping = asyncio.Event()
        self._tracer = telemetry.tracer("simtune.projector")

    @property
    def durable(self) -> str:
        return durable_name("proj", self.projection.name)

    async def start(self) -> None:
        await db.ensure_schema(self.engine, self.schema)
        async with self.engine.begin() as conn:
            await self.projection.create(conn)
        self._stopping.clear()
        for stream in self.projection.streams:
            async with self.engine.connect() as conn:
                start = await db.read_checkpoint(conn, self.schema, self.projection.name, stream)
            self._positions[stream] = start
            sub = await pull(
                self.js,
                stream,
                self._subjects(stream),
                self.durable,
                max_ack_pending=self.batch_size,
                start_seq=start + 1,
            )
            self._tasks.append(asyncio.create_task(self._run(stream, sub), name=self.durable))

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def rebuild(self) -> int:
        """Drop the read model, forget the checkpoint and the consumer, replay the whole log."""
        await self.stop()
        async with self.engine.begin() as conn:
            await self.projection.drop(conn)
            await db.delete_checkpoints(conn, self.schema, self.projection.name)
        for stream in self.projection.streams:
            await delete_durable(self.js, stream, self.durable)
        await self.start()
        return await self.wait_caught_up()

    async def wait_caught_up(self, timeout: float = 60.0) -> int:
        """Wait until every stream's checkpoint reaches its last sequence; returns events seen."""
        targets = {}
        for stream in self.projection.streams:
            info = await self.js.stream_info(stream)
            targets[stream] = info.state.last_seq
        deadline = asyncio.get_running_loop().time() + timeout
        while any(self._positions.get(s, 0) < t for s, t in targets.items()):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{self.projection.name} did not catch up in {timeout}s")
            await asyncio.sleep(0.02)
        return sum(targets.values())

    async def reached(self, stream: str, seq: int, timeout: float = 5.0) -> bool:
        """Wait until the events of `stream` up to `seq` are applied (False on timeout)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._positions.get(stream, 0) < seq:
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    async def _run(self, stream: str, sub) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                msgs = await sub.fetch(self.batch_size, timeout=1.0)
            except (TimeoutError, NatsTimeout):
                continue
            except Exception as exc:  # connection hiccup: retry, never die silently
                log.warning(
                    "projector.fetch_failed", projection=self.projection.name, error=str(exc)
                )
                await asyncio.sleep(backoff)
                continue
            try:
                applied = await self._apply_batch(stream, msgs)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "projector.apply_failed", projection=self.projection.name, stream=stream
                )
                for msg in msgs:
                    await msg.nak(delay=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 0.5
            for msg in msgs:
                await msg.ack()
            if self.projection.announce:
                for rec in applied:
                    subject = f"projected.{rec.stream}.{rec.tenant}"
                    await self.nc.publish(subject, announcement(rec, self.projection.name))

    async def _apply_batch(self, stream: str, msgs) -> list[RecordedEvent]:
        applied: list[RecordedEvent] = []
        async with self.engine.begin() as conn:
            last = await db.read_checkpoint(conn, self.schema, self.projection.name, stream)
            for msg in msgs:
                seq = msg.metadata.sequence.stream
                if seq <= last:
                    continue  # already applied: the checkpoint, not the ack, decides
                if seq != last + 1:
                    raise RuntimeError(f"gap in {stream}: expected {last + 1}, got {seq}")
                last = seq
                try:
                    rec = to_recorded(stream, seq, msg.subject, msg.data, msg.headers)
                except UnknownEvent:
                    log.warning("projector.unknown_event", stream=stream, seq=seq)
                    continue
                parent = telemetry.extract(rec.headers)
                with self._tracer.start_as_current_span(
                    f"project {rec.type}",
                    context=parent,
                    attributes={"projection": self.projection.name, "seq": seq},
                ):
                    await self.projection.apply(conn, rec)
                applied.append(rec)
            await db.write_checkpoint(conn, self.schema, self.projection.name, stream, last)
        self._positions[stream] = last
        return applied
