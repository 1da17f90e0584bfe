"""The model writing one answer: its pieces streamed as frames to whoever waits for them, its
place in the local queue sent while it waits, and the model stopped when the reader leaves."""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing

from contracts.answers import Queued, Written
from contracts.base import DomainError, ErrorCode
from services.expert.answering.frames import Frames
from services.expert.backends import backend_failed
from services.expert.llm import Adapter, Backend, BackendError, Finished, Params, Piece


async def generate(
    backend: Backend,
    adapter: Adapter | None,
    messages: list[dict[str, str]],
    params: Params,
    frames: Frames,
) -> tuple[str, Finished, float | None]:
    """The model's answer, each piece sent as a frame as it comes: its text, its counts, and
    when its first piece came (None: no piece). A reader who went away stops the model."""
    loop = asyncio.get_running_loop()

    def on_wait(position: int) -> None:
        loop.create_task(frames.send(Queued(position=position)))

    pieces: list[str] = []
    finished, first_at = None, None

    async def run() -> None:
        nonlocal finished, first_at
        stream = backend.stream(messages, params, adapter=adapter, on_wait=on_wait)
        async with aclosing(stream) as tokens:
            async for item in tokens:
                if isinstance(item, Piece):
                    first_at = first_at or time.perf_counter()
                    pieces.append(item.text)
                    await frames.send(Written(text=item.text))
                else:
                    finished = item

    work = asyncio.create_task(run())
    gone = asyncio.create_task(frames.cancelled.wait())
    try:
        await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not work.done():
        work.cancel()
        await asyncio.gather(work, return_exceptions=True)
        raise DomainError(ErrorCode.UNAVAILABLE, "the answer was stopped: its reader left")
    try:
        work.result()
    except BackendError as exc:
        raise backend_failed(exc) from exc
    except ValueError as exc:  # the backend's own checks: a prompt past its context
        raise DomainError(ErrorCode.INVALID, str(exc)) from exc
    text = "".join(pieces)
    if finished is None:  # a backend that reports no counts
        finished = Finished(
            prompt_tokens=0, completion_tokens=backend.count_tokens(text), finish_reason="stop"
        )
    return text, finished, first_at
