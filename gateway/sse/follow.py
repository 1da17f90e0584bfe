"""One run (a fine-tune, a benchmark) as Server-Sent Events until it ends: its view now,
then again after each committed change that concerns it, read with `after_seq` so each event
already shows the change. Bursts of events are coalesced into one read; a comment is sent
every 15 s of quiet so proxies keep the connection open, and the view is read again then
(sent only if it changed): announcements travel on plain NATS, and one lost with a replica
killed after its commit must not leave a run that has ended shown as still running.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
from litestar.response import ServerSentEventMessage

from contracts.base import DomainError
from gateway.backend import Backend
from gateway.sse.hub import Announcement, Closed

KEEPALIVE_S = 15.0
COALESCE_S = 0.05
ENDED = ("succeeded", "failed", "cancelled")  # a run in one of these changes no more


def about_run(ann: Announcement, run_id: str) -> bool:
    """Is this event about the run (its own, or one naming it)?"""
    return ann.aggregate_id == run_id or ann.data.get("run_id") == run_id


async def follow_run(
    backend: Backend,
    stream: str,
    read: Callable[[int], Awaitable[Any]],
    concerns: Callable[[Announcement, Any], bool],
    shown: Callable[[Any], Any | None],
) -> AsyncIterator[ServerSentEventMessage]:
    """`read(after_seq)` the run's view; `shown(view)` what to send of it (None: nothing new);
    `concerns(announcement, view)` whether an event of `stream` changes what is shown."""
    async with backend.hub.listen([stream], backend.tenant) as listener:
        after = 0
        while True:
            try:
                view = await read(after)
            except DomainError:
                return  # gone or the service is down: the client reads the run again
            event = shown(view)
            if event is not None:
                yield ServerSentEventMessage(data=msgspec.json.encode(event).decode())
            if view.status in ENDED:
                return
            while True:  # until something that concerns the run is committed
                try:
                    batch = await listener.burst(KEEPALIVE_S, COALESCE_S)
                except Closed:
                    return
                if batch is None:
                    yield ServerSentEventMessage(data=None, comment="keep-alive")
                    break  # look again: what changed may have lost its announcement
                relevant = [a for a in batch if concerns(a, view)]
                if relevant:
                    after = max(a.seq for a in relevant)
                    break


def run_events(
    backend: Backend,
    stream: str,
    get: Callable[..., Any],
    run_id: str,
    shown: Callable[[Any], Any | None] | None = None,
    *,
    queue_moves: bool = False,
) -> AsyncIterator[ServerSentEventMessage]:
    """A run's `/progress` stream (its route asks `get(run_id=)` first, so that an unknown
    run is a 404 before the stream starts): `follow_run` reading `get(run_id=, after_seq=)`
    after each event about the run (with `queue_moves`, a queued run after any event of
    `stream`: its place in the queue may move), sending `shown(view)` (default: the view,
    when it changed)."""

    async def read(after_seq: int) -> Any:
        return await backend.ask(get(run_id=run_id, after_seq=after_seq))

    def concerns(ann: Announcement, view: Any) -> bool:
        return (queue_moves and view.status == "queued") or about_run(ann, run_id)

    return follow_run(backend, stream, read, concerns, shown or when_changed())


def when_changed() -> Callable[[Any], Any | None]:
    """A `shown` that sends the view itself, each time it differs from the last one sent."""
    last = None

    def shown(view: Any) -> Any | None:
        nonlocal last
        if view == last:
            return None
        last = view
        return view

    return shown
