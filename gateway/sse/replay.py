"""Re-read missed events from a context's JetStream stream.

For an SSE resume, an ephemeral, unacknowledged pull consumer reads from a start sequence
up to the end the stream had when the replay began; later events arrive live through the
hub. On the live feed, `missed` fills what the hub did not bring before an announcement:
announcements travel on plain NATS, so one is lost with a replica killed between its
commit and its announcement, and one can be overtaken by a later one that another replica
of the service, taking its turn on the projection, announced on another server.

The gateway has no keyring, and needs none: a replayed event says what the live feed says
(`runtime.projection.announcement`), built from the event's JSON as it lies on the log with
its personal fields (sealed or not) and secrets left out (`public_raw`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

from runtime import headers as h
from runtime.codec import encode, event_class
from runtime.logs import get_logger
from runtime.projection import public_raw

log = get_logger(__name__)

BATCH = 256
PROJECTION = "replay"  # the `projection` field of a replayed event


async def last_seq(js: JetStreamContext, stream: str) -> int:
    """The stream's last sequence; 0 while no service has created the stream yet."""
    try:
        return (await js.stream_info(stream)).state.last_seq
    except NotFoundError:
        return 0


async def replay(
    js: JetStreamContext, context: str, stream: str, tenant: str, start_seq: int
) -> AsyncIterator[tuple[int, bytes]]:
    """Yield `(seq, announcement JSON)` for the tenant's events from `start_seq` on."""
    end = await last_seq(js, stream)
    if start_seq > end:
        return
    config = api.ConsumerConfig(
        deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=max(start_seq, 1),
        ack_policy=api.AckPolicy.NONE,
        inactive_threshold=30.0,
        mem_storage=True,
    )
    sub = await js.pull_subscribe(f"evt.{context}.{tenant}.>", stream=stream, config=config)
    try:
        while True:
            try:
                msgs = await sub.fetch(BATCH, timeout=1.0)
            except NatsTimeout:
                return  # nothing more for this tenant up to now
            for msg in msgs:
                seq = msg.metadata.sequence.stream
                if seq > end:
                    return
                said = replayed(stream, seq, msg.subject, msg.data, msg.headers)
                if said is not None:
                    yield seq, said
                if seq == end or msg.metadata.num_pending == 0:
                    return
    finally:
        try:
            name = (await sub.consumer_info()).name
            await sub.unsubscribe()
            await js.delete_consumer(stream, name)
        except Exception as exc:  # it expires on its own after `inactive_threshold` anyway
            log.debug("events.replay_unsubscribe_failed", error=str(exc))


async def missed(
    js: JetStreamContext, context: str, stream: str, tenant: str, after: int, before: int
) -> AsyncIterator[tuple[int, bytes]]:
    """Yield `(seq, announcement JSON)` for the tenant's events between `after` and `before`
    (both excluded), asking the stream's leader for the next one each time. Nothing is read
    when they are neighbours on the stream; otherwise the first answer is usually the event
    at `before` itself (what lay between was another person's). An announcement
    for `before` says that its projection applied everything up to it, in stream order."""
    subject = f"evt.{context}.{tenant}.>"
    seq = after + 1
    while seq < before:
        try:
            msg = await js.get_msg(stream, seq=seq, subject=subject, next=True)
        except NotFoundError:
            return
        if msg.seq >= before:
            return
        said = replayed(stream, msg.seq, msg.subject, msg.data, msg.headers)
        if said is not None:
            yield msg.seq, said
        seq = msg.seq + 1


def replayed(
    stream: str, seq: int, subject: str, data: bytes, headers: dict | None
) -> bytes | None:
    """The announcement of one event read from the log; None for an event this build does
    not know (a newer release's) or that is not an event at all."""
    headers = headers or {}
    try:
        raw = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return None
    if not isinstance(raw, dict):
        return None
    type_ = headers.get(h.EVENT_TYPE) or raw.get("type")
    if event_class(type_) is None or raw.get("type") != type_:
        return None
    parts = subject.split(".")
    return encode(
        {
            "stream": stream,
            "seq": seq,
            "type": type_,
            "tenant": headers.get(h.TENANT, parts[2] if len(parts) > 2 else ""),
            "aggregate_id": parts[4] if len(parts) > 4 else "",
            "occurred_at": headers.get(h.OCCURRED_AT, ""),
            "projection": PROJECTION,
            "data": public_raw(raw),
        }
    )
