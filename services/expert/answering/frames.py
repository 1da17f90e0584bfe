"""The live side of one answer: its frames (queued position, the numbered sources, each
piece of text) published on the core subject `answer.stream.<tenant>.<stream_id>` the
caller listens on, and the caller's `answer.cancel.<tenant>.<stream_id>` (it went away)
heard as a signal to stop the model. Without a stream id nobody listens: nothing is sent."""

from __future__ import annotations

import asyncio

import msgspec

from contracts.answers import Frame, Sources, cancel_subject, stream_subject
from runtime.service import ServiceHost

_frames = msgspec.json.Encoder()


class Frames:
    """The live side of one answer: frames out, a cancel signal in."""

    def __init__(self, host: ServiceHost, tenant: str, stream_id: str | None) -> None:
        self.nc, self.tenant, self.stream_id = host.nc, tenant, stream_id
        self.cancelled = asyncio.Event()
        self.sources: Sources | None = None  # sent before the first frame that follows
        self._sub = None

    async def __aenter__(self) -> Frames:
        if self.stream_id:
            subject = cancel_subject(self.tenant, self.stream_id)
            self._sub = await self.nc.subscribe(subject, cb=self._on_cancel)
        return self

    async def __aexit__(self, *_exc) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()

    async def _on_cancel(self, _msg) -> None:
        self.cancelled.set()

    async def send(self, frame: Frame) -> None:
        """Publish a frame. The numbered sources go just before the first other frame, so a
        refusal to start (a full queue) is the first and only thing a listener sees."""
        if not self.stream_id:
            return
        if self.sources is not None:
            sources, self.sources = self.sources, None
            await self.send(sources)
        await self.nc.publish(stream_subject(self.tenant, self.stream_id), _frames.encode(frame))
