"""`GET /api/events`: domain events as Server-Sent Events, once their projection committed.

`id:` is the stream sequence (see `gateway.sse.cursor` for the composite form used when several
topics are requested). A reconnect with `Last-Event-ID` (or `?last_event_id=` for clients
that cannot set headers) first replays what it missed from JetStream, then goes on live,
without duplicates. Live, an event whose announcement never came (or came after a later
one's) is read from the log before that later one is sent, so the feed has no gap
(`replay.missed`). A comment line is sent every 15 s of quiet to keep proxies from
closing the connection; in that quiet, the person's events that another person's later
announcement shows projected, but whose own never came, are read from the log too
(`quiet_fill`), so the last event before a quiet spell is not held back until the next one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar import get
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from nats.js import JetStreamContext

from contracts.events import FOLLOWED
from gateway.backend import Backend
from gateway.http.errors import error_responses
from gateway.http.openapi import SSE, answering
from gateway.sse.cursor import DEFAULT_TOPICS, Cursor, parse_event_id, parse_topics, topic_of_stream
from gateway.sse.hub import Closed
from gateway.sse.replay import last_seq, missed, replay

KEEPALIVE_S = 15.0


@get(
    "/api/events",
    tags=["events"],
    summary="Domain events as they are projected (SSE)",
    responses=error_responses(400),
    operation_class=answering(SSE),
)
async def events(
    backend: Backend,
    topics: str = Parameter(
        default=DEFAULT_TOPICS, description=f"comma-separated, of: {DEFAULT_TOPICS}"
    ),
    last_event_id_header: str | None = Parameter(header="Last-Event-ID", default=None),
    last_event_id: str | None = Parameter(
        query="last_event_id", default=None, description="same as the Last-Event-ID header"
    ),
) -> ServerSentEvent:
    chosen = parse_topics(topics)
    resume = parse_event_id(last_event_id_header or last_event_id, chosen)
    return ServerSentEvent(event_stream(backend, chosen, resume))


async def event_stream(
    backend: Backend, topics: list[str], resume: dict[str, int]
) -> AsyncIterator[ServerSentEventMessage]:
    cursor = Cursor(topics)
    checked: dict[str, int] = {}  # how far each topic's quiet fill has looked
    async with backend.hub.listen([FOLLOWED[t] for t in topics], backend.tenant) as listener:
        # Subscribed first, so nothing committed from here on is missed while replaying.
        for topic in topics:
            if topic in resume:
                cursor.resume(topic, resume[topic])
            else:
                cursor.begin(topic, await last_seq(backend.js, FOLLOWED[topic]))
        yield ServerSentEventMessage(data=None, comment="connected", id=cursor.event_id())
        for topic, seq in resume.items():
            async for replayed, data in replay(
                backend.js, topic, FOLLOWED[topic], backend.tenant, seq + 1
            ):
                if cursor.accept(topic, replayed):
                    yield ServerSentEventMessage(data=data.decode(), id=cursor.event_id())
        while True:
            try:
                ann = await listener.next(KEEPALIVE_S)
            except Closed:
                return
            if ann is None:
                yield ServerSentEventMessage(data=None, comment="keep-alive")
                projected = backend.hub.projected
                async for message in quiet_fill(
                    backend.js, backend.tenant, cursor, projected, checked
                ):
                    yield message
                continue
            topic = topic_of_stream(ann.stream)
            if topic is None or ann.seq <= cursor.sent[topic]:
                continue  # not followed, or sent already (filled in before a later one)
            async for seq, data in missed(
                backend.js, topic, FOLLOWED[topic], backend.tenant, cursor.position(topic), ann.seq
            ):
                if cursor.accept(topic, seq):
                    yield ServerSentEventMessage(data=data.decode(), id=cursor.event_id())
            if cursor.accept(topic, ann.seq):
                yield ServerSentEventMessage(data=ann.raw.decode(), id=cursor.event_id())


async def quiet_fill(
    js: JetStreamContext,
    tenant: str,
    cursor: Cursor,
    projected: dict[str, int],
    checked: dict[str, int],
    streams: dict[str, str] = FOLLOWED,
) -> AsyncIterator[ServerSentEventMessage]:
    """In a quiet spell: the person's events up to the highest sequence announced on each
    stream (`projected`, anyone's: its projection had applied everything before it) that no
    announcement of theirs brought. A replica killed between its commit and its announcement
    loses one, and nothing more of the person's may follow to bring it (`replay.missed`).
    `checked` keeps how far each topic was looked at: a feed that stays quiet reads nothing
    again, and one read is asked only when some announcement came since the last look."""
    for topic in cursor.topics:
        stream = streams[topic]
        upto = projected.get(stream, 0)
        after = max(cursor.position(topic), checked.get(topic, 0))
        if upto <= after:
            continue
        async for seq, data in missed(js, topic, stream, tenant, after, upto + 1):
            if cursor.accept(topic, seq):
                yield ServerSentEventMessage(data=data.decode(), id=cursor.event_id())
        checked[topic] = upto


ROUTES = [events]
