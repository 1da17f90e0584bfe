"""Long work that a person can stop: the work races a watch that asks, every `poll_s`,
whether it was cancelled (a model call or a training process can take minutes; the work
must not finish its step before it notices). The watch can also keep a work-queue message
alive meanwhile (`beat`, every `beat_s`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class Cancelled(Exception):
    """A person cancelled the work."""


async def unless_cancelled(
    work: Awaitable,
    cancelled: Callable[[], Awaitable[bool]],
    *,
    poll_s: float = 0.5,
    beat: Callable[[], Awaitable[None]] | None = None,
    beat_s: float = 5.0,
):
    """`work`'s result, or `Cancelled` as soon as `cancelled()` says so (the work is then
    cancelled and waited for, so whatever it holds is let go before this returns)."""
    task = asyncio.ensure_future(work)

    async def watch() -> None:
        last_beat = time.monotonic()
        while True:
            await asyncio.sleep(poll_s)
            if await cancelled():
                return
            if beat is not None and time.monotonic() - last_beat > beat_s:
                last_beat = time.monotonic()
                await beat()

    watcher = asyncio.ensure_future(watch())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, watcher):
            if not pending.done():
                pending.cancel()
    if not task.done() or task.cancelled():
        await asyncio.gather(task, return_exceptions=True)
        raise Cancelled
    return task.result()
