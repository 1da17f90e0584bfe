"""Fan-out of projection announcements to the gateway's SSE listeners.

A projector publishes `projected.<STREAM>.<tenant>` after its transaction commits (see
`runtime.projector.announcement`). The gateway holds ONE core-NATS subscription to
`projected.>` and hands each announcement to every listener interested in that stream.
A listener that falls too far behind is closed; its client reconnects with
`Last-Event-ID` and the gap is replayed from JetStream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from runtime.logs import get_logger

log = get_logger(__name__)

SUBJECT = "projected.>"
QUEUE_SIZE = 4096


class Announcement(msgspec.Struct, frozen=True, kw_only=True):
    """What a projector announces after commit (`raw` is the JSON it sent)."""

    stream: str
    seq: int
    type: str
    tenant: str
    aggregate_id: str = ""
    occurred_at: str = ""
    projection: str = ""
    data: dict[str, Any] = {}
    raw: bytes = b""


_decoder = msgspec.json.Decoder(Announcement)


class Closed(Exception):
    """The listener was closed: the gateway is stopping or the client fell behind."""


class Listener:
    def __init__(self, streams: frozenset[str], tenant: str) -> None:
        self.streams, self.tenant = streams, tenant
        self._queue: asyncio.Queue[Announcement | None] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False

    def offer(self, ann: Announcement) -> None:
        if ann.stream not in self.streams or ann.tenant != self.tenant or self.overflowed:
            return
        try:
            self._queue.put_nowait(ann)
        except asyncio.QueueFull:
            self.overflowed = True
            self.close()

    def close(self) -> None:
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:
            self._queue.get_nowait()  # make room for the end marker; the client replays anyway
            self._queue.put_nowait(None)

    async def next(self, timeout: float) -> Announcement | None:
        """The next announcement, None after `timeout` seconds of quiet; Closed when closed."""
        try:
            ann = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
        if ann is None:
            self._queue.put_nowait(None)  # stay closed for any later call
            raise Closed
        return ann

    async def burst(self, timeout: float, settle: float) -> list[Announcement] | None:
        """The next announcement and whatever follows it within `settle` seconds (a burst of
        steps or chunks becomes one update); None after `timeout` seconds of quiet (time for
        a keep-alive); Closed when closed."""
        ann = await self.next(timeout)
        if ann is None:
            return None
        await asyncio.sleep(settle)
        return [ann, *self.drain()]

    def drain(self) -> list[Announcement]:
        """Whatever is already queued, without waiting (the end marker stays queued)."""
        items: list[Announcement] = []
        while not self._queue.empty():
            ann = self._queue.get_nowait()
            if ann is None:
                self._queue.put_nowait(None)
                break
            items.append(ann)
        return items


class EventHub:
    def __init__(self, nc: NATS) -> None:
        self.nc = nc
        self._listeners: set[Listener] = set()
        self._sub = None
        # The highest sequence of each stream announced to this gateway, whoever's event it
        # was: its projection had applied everything up to it, in stream order.
        self.projected: dict[str, int] = {}

    @property
    def running(self) -> bool:
        """Whether it is subscribed to the projected events (between start and stop)."""
        return self._sub is not None

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(SUBJECT, cb=self._on_message)

    async def stop(self) -> None:
        if self._sub is not None and not self.nc.is_closed:
            await self._sub.unsubscribe()
        self._sub = None
        for listener in list(self._listeners):
            listener.close()

    @asynccontextmanager
    async def listen(
        self, streams: Iterable[str], tenant: str = "local"
    ) -> AsyncIterator[Listener]:
        """Receive announcements of `streams` (each a `contracts.<context>.STREAM`) while the
        block runs."""
        listener = Listener(frozenset(streams), tenant)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)

    def dispatch(self, ann: Announcement) -> None:
        if ann.seq > self.projected.get(ann.stream, 0):
            self.projected[ann.stream] = ann.seq
        for listener in list(self._listeners):
            listener.offer(ann)

    async def _on_message(self, msg: Msg) -> None:
        try:
            ann = _decoder.decode(msg.data)
        except msgspec.DecodeError:
            log.warning("events.bad_announcement", subject=msg.subject)
            return
        self.dispatch(msgspec.structs.replace(ann, raw=msg.data))
