"""One answer while it is written: the `Ask` command sent to the expert service, and the
frames it publishes for this answer (queued position, sources, pieces of text) handed on as
they come, the finished answer last. Closing the iterator early (the browser or SDK client
went away) tells the service to stop the model.

Shared by the REST API's SSE, the OpenAI-compatible API and the console's chat.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import msgspec

from contracts.answers import AnswerReply, Ask, Frame, cancel_subject, stream_subject
from gateway.backend import Backend

ANSWER_TIMEOUT_S = 900.0  # a long answer behind a queue of others, on a slow CPU
DRAIN_S = 0.05  # frames already queued come at once; this only ends the drain
_frame = msgspec.json.Decoder(Frame)


async def answer_frames(backend: Backend, cmd: Ask) -> AsyncIterator[Frame | AnswerReply]:
    """The frames of the answer to `cmd`, then its AnswerReply; a refusal of the service
    (unknown expert, full queue, failing model server) raises its DomainError."""
    stream_id = uuid.uuid4().hex
    cmd = msgspec.structs.replace(cmd, stream_id=stream_id, tenant=backend.tenant)
    # No callback: the subscription queues frames in arrival order, and NATS delivers one
    # publisher's messages in order, so every frame sent before the reply is queued (or
    # being read) by the time the reply has come.
    sub = await backend.nc.subscribe(stream_subject(backend.tenant, stream_id))
    call = asyncio.create_task(backend.ask(cmd, timeout=ANSWER_TIMEOUT_S))
    finished, pending = False, None
    try:
        while True:
            # One read stays pending across turns: cancelling a read that has just taken a
            # frame off the queue would lose that frame.
            pending = pending or asyncio.create_task(sub.next_msg(timeout=None))
            await asyncio.wait({pending, call}, return_when=asyncio.FIRST_COMPLETED)
            if not pending.done():
                break
            msg, pending = pending.result(), None
            yield _frame.decode(msg.data)
        reply = call.result()  # raises the service's refusal
        while (await asyncio.wait({pending}, timeout=DRAIN_S))[0]:
            msg = pending.result()
            pending = asyncio.create_task(sub.next_msg(timeout=None))
            yield _frame.decode(msg.data)
        finished = True
        yield reply
    finally:
        if pending is not None:
            pending.cancel()
        await sub.unsubscribe()
        if not finished and not call.done():
            await backend.nc.publish(cancel_subject(backend.tenant, stream_id), b"")
            call.cancel()
