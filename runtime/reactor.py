"""Reactions to events (policies, process managers and long work off a work queue).

A reactor is a durable pull consumer shared by every replica of a service, so each event
is handled by one of them. Handling must be idempotent: whatever a reaction appends uses
an event id derived from the triggering event's id, so a redelivery after a crash appends
nothing new (JetStream drops the duplicate, the aggregate's expected sequence refuses it).
Long work calls `progress()` now and then so the message is not redelivered meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from nats.aio.client import Client as NATS
from nats.errors import TimeoutError as NatsTimeout

from runtime import telemetry
from runtime.codec import UnknownEvent
from runtime.consumers import durable_name, pull
from runtime.eventstore import RecordedEvent, to_recorded
from runtime.logs import bind_request_context, get_logger

log = get_logger(__name__)

Progress = Callable[[], Awaitable[None]]
Handler = Callable[[RecordedEvent, Progress], Awaitable[None]]


class Reactor:
    def __init__(
        self,
        nc: NATS,
        name: str,
        stream: str,
        handler: Handler,
        *,
        subject: str | None = None,
        ack_wait_s: float = 60.0,
        concurrency: int = 1,
    ) -> None:
        self.nc, self.js = nc, nc.jetstream()
        self.name, self.stream, self.handler = name, stream, handler
        self.subject = subject or f"evt.{stream.lower()}.>"
        self.ack_wait_s = ack_wait_s
        self.concurrency = concurrency
        self._tasks: list[asyncio.Task] = []
        self._tracer = telemetry.tracer("simtune.reactor")

    async def start(self) -> None:
        sub = await pull(
            self.js,
            self.stream,
            self.subject,
            durable_name("react", self.name),
            max_ack_pending=max(self.concurrency, 1) * 4,
            ack_wait_s=self.ack_wait_s,
        )
        for i in range(self.concurrency):
            self._tasks.append(asyncio.create_task(self._run(sub), name=f"{self.name}-{i}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _run(self, sub) -> None:
        while True:
            try:
                msgs = await sub.fetch(1, timeout=1.0)
            except (TimeoutError, NatsTimeout):
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("reactor.fetch_failed", reactor=self.name, error=str(exc))
                await asyncio.sleep(1.0)
                continue
            for msg in msgs:
                await self._handle(msg)

    async def _handle(self, msg) -> None:
        seq = msg.metadata.sequence.stream
        try:
            rec = to_recorded(self.stream, seq, msg.subject, msg.data, msg.headers)
        except UnknownEvent:
            await msg.ack()
            return

        async def progress() -> None:
            await msg.in_progress()

        attempt = msg.metadata.num_delivered
        parent = telemetry.extract(rec.headers)
        with (
            bind_request_context(tenant=rec.tenant, correlation_id=rec.correlation_id),
            self._tracer.start_as_current_span(f"react {rec.type}", context=parent),
        ):
            try:
                await self.handler(rec, progress)
            except asyncio.CancelledError:
                await asyncio.shield(msg.nak())  # stopping: let another replica take it now
                raise
            except Exception:
                delay = min(2.0**attempt, 60.0)
                log.exception("reaction.failed", reactor=self.name, seq=seq, attempt=attempt)
                await msg.nak(delay=delay)
                return
        await msg.ack()
