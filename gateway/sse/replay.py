"""Re-read missed events from a context's JetStream stream (for an SSE resume).

An ephemeral, unacknowledged pull consumer reads from a start sequence up to the end the
stream had when the replay began; later events arrive live through the hub.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

from runtime.codec import UnknownEvent
from runtime.eventstore import to_recorded
from runtime.logs import get_logger
from runtime.projector import announcement

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
                try:
                    rec = to_recorded(stream, seq, msg.subject, msg.data, msg.headers)
                except UnknownEvent:
                    continue
                yield seq, announcement(rec, PROJECTION)
                if seq == end or msg.metadata.num_pending == 0:
                    return
    finally:
        try:
            name = (await sub.consumer_info()).name
            await sub.unsubscribe()
            await js.delete_consumer(stream, name)
        except Exception as exc:  # it expires on its own after `inactive_threshold` anyway
            log.debug("events.replay_unsubscribe_failed", error=str(exc))
