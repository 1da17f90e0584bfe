"""What a projector knows about itself: the checkpoints it has seen, the event it is held
at or stuck on, and the waits that a new checkpoint, a rebuild or a fix end early."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from contracts.base import ComponentHealth
from runtime import headers

MAX_ERROR = 300  # characters of an error kept for /health


@dataclass(frozen=True)
class Trouble:
    state: str  # "waiting" (an unknown event type) or "stuck" (an event that fails)
    stream: str
    seq: int
    type: str
    error: str = ""

    @property
    def detail(self) -> str:
        if self.state == "waiting":
            return f"held at {self.stream} {self.seq}: needs a newer build for {self.type}"
        return f"stuck at {self.stream} {self.seq} ({self.type}): {self.error}"

    def fields(self) -> dict:
        return {"stream": self.stream, "seq": self.seq, "type": self.type, "error": self.error}


def describe(stream: str, item, error: BaseException) -> Trouble:
    """The trouble with one event (a RecordedEvent, or a message that did not decode)."""
    if hasattr(item, "metadata"):
        seq, type_ = (
            item.metadata.sequence.stream,
            (item.headers or {}).get(headers.EVENT_TYPE, "?"),
        )
    else:
        seq, type_ = item.seq, item.type
    cause = getattr(error, "orig", None) or error  # a driver's own message, not SQLAlchemy's
    cause = cause.__cause__ or cause if getattr(error, "orig", None) else cause
    message = " ".join(str(cause).split()) or type(cause).__name__
    return Trouble("stuck", stream, seq, type_, message[:MAX_ERROR])


class Watch:
    def __init__(self, name: str, streams: tuple[str, ...]) -> None:
        self.name, self.streams = name, streams
        self.running = False
        self.trouble: dict[str, Trouble] = {}
        self._known: dict[str, int] = {}
        self._advanced = asyncio.Event()
        self._wake = asyncio.Event()

    # checkpoints
    def known(self, stream: str) -> int:
        return self._known.get(stream, 0)

    def saw(self, stream: str, seq: int, *, exact: bool = False) -> None:
        """A checkpoint read or committed; `exact` also lowers it (a rebuild swapped in)."""
        if exact or seq > self.known(stream):
            self._known[stream] = seq
            self._advanced.set()
            self._advanced = asyncio.Event()

    async def advanced(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._advanced.wait(), timeout)
        except TimeoutError:
            pass

    # trouble
    def park(self, stream: str, trouble: Trouble) -> bool:
        """Note the trouble; True the first time (so it is logged once)."""
        new = self.trouble.get(stream) != trouble
        self.trouble[stream] = trouble
        return new

    def hold(self, stream: str, seq: int, type_: str) -> bool:
        return self.park(stream, Trouble("waiting", stream, seq, type_))

    def clear(self, stream: str) -> None:
        self.trouble.pop(stream, None)

    def blocked_before(self, stream: str, seq: int) -> bool:
        """Stuck at or before `seq`: waiting for it is pointless."""
        trouble = self.trouble.get(stream)
        return trouble is not None and trouble.state == "stuck" and trouble.seq <= seq

    # waits that end early
    async def sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
        self._wake.clear()

    def wake(self) -> None:
        self._wake.set()

    def health(
        self, rebuilding: bool, checkpoints: dict[str, int], lag: int, error: str | None = None
    ) -> ComponentHealth:
        stuck = [t for t in self.trouble.values() if t.state == "stuck"]
        waiting = [t for t in self.trouble.values() if t.state == "waiting"]
        if stuck or waiting:
            state, detail = ("stuck", stuck[0].detail) if stuck else ("waiting", waiting[0].detail)
        elif not self.running:
            state, detail = "stopped", None
        else:
            state, detail = ("rebuilding" if rebuilding else "running"), None
        return ComponentHealth(
            name=self.name,
            kind="projection",
            state=state,
            detail=error or detail,
            checkpoints=checkpoints,
            lag=lag,
        )
