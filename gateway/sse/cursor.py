"""Positions of an SSE client in the context streams, and the `id:` it is given.

The `id:` of an event is the stream sequence. With ONE topic it is the plain number
(`42`). With several it names every requested topic in request order:
`ingest:42,knowledge:17` - each number is the last event of that stream the client was
sent, or, before the first one, the end the stream had when the client first connected.
A reconnect sends it back as `Last-Event-ID` and the gateway replays what came after,
stream by stream.
Pure code, no I/O.
"""

from __future__ import annotations

from contracts.base import DomainError, ErrorCode
from contracts.events import FOLLOWED

DEFAULT_TOPICS = ",".join(FOLLOWED)


def parse_topics(raw: str | None) -> list[str]:
    """`"ingest,knowledge"` -> ["ingest", "knowledge"] (deduplicated, order kept)."""
    topics: list[str] = []
    for part in (raw or DEFAULT_TOPICS).split(","):
        topic = part.strip().lower()
        if not topic or topic in topics:
            continue
        if topic not in FOLLOWED:
            raise DomainError(
                ErrorCode.INVALID,
                f"unknown topic {topic!r}; topics are {', '.join(FOLLOWED)}",
            )
        topics.append(topic)
    if not topics:
        raise DomainError(ErrorCode.INVALID, f"name at least one topic of {', '.join(FOLLOWED)}")
    return topics


def parse_event_id(raw: str | None, topics: list[str]) -> dict[str, int]:
    """Read a `Last-Event-ID` back into {topic: last sequence seen}; {} when absent."""
    raw = (raw or "").strip()
    if not raw:
        return {}
    if raw.isdigit():
        if len(topics) != 1:
            raise DomainError(
                ErrorCode.INVALID,
                "Last-Event-ID must look like 'ingest:42,knowledge:17' when several topics are"
                " requested",
            )
        return {topics[0]: int(raw)}
    positions: dict[str, int] = {}
    for part in raw.split(","):
        topic, sep, seq = part.strip().partition(":")
        if not sep or not seq.strip().isdigit() or topic.strip().lower() not in FOLLOWED:
            raise DomainError(ErrorCode.INVALID, f"Last-Event-ID {raw!r} is not one Simtune gave")
        if topic.strip().lower() in topics:
            positions[topic.strip().lower()] = int(seq)
    return positions


class Cursor:
    """Which events of each topic one client has been sent.

    `sent` is the highest sequence delivered (announcements at or below it are duplicates);
    `floor` is where the client's history starts. The id is `sent` once anything was sent,
    else `floor`: an event appended before the client connected but projected after it is
    sent with its own sequence (not the floor), so a client that resumes from it is still
    owed the events after it.
    """

    def __init__(self, topics: list[str]) -> None:
        self.topics = topics
        self.sent = dict.fromkeys(topics, 0)
        self.floor = dict.fromkeys(topics, 0)

    def resume(self, topic: str, seq: int) -> None:
        """The client already has every event of `topic` up to `seq` (from Last-Event-ID)."""
        self.floor[topic] = seq
        self.sent[topic] = max(self.sent[topic], seq)

    def begin(self, topic: str, last_seq: int) -> None:
        """A first connection: the client's history starts at the stream's current end.

        Announcements of earlier events that commit from now on are still delivered.
        """
        self.floor[topic] = last_seq

    def accept(self, topic: str, seq: int) -> bool:
        """True (and remembered) when the event is new to this client."""
        if topic not in self.sent or seq <= self.sent[topic]:
            return False
        self.sent[topic] = seq
        return True

    def position(self, topic: str) -> int:
        return self.sent[topic] or self.floor[topic]

    def event_id(self) -> str:
        if len(self.topics) == 1:
            return str(self.position(self.topics[0]))
        return ",".join(f"{t}:{self.position(t)}" for t in self.topics)


def topic_of_stream(stream: str) -> str | None:
    for topic, name in FOLLOWED.items():
        if name == stream:
            return topic
    return None
