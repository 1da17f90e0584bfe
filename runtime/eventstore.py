"""The event store: one JetStream stream per context, the source of truth.

Subjects are `evt.<context>.<tenant>.<aggregate>.<id>`. An append carries
`Nats-Expected-Last-Subject-Sequence` (optimistic concurrency per aggregate) and
`Nats-Msg-Id` = the event id (JetStream drops a re-sent duplicate and answers with the
original sequence). One command appends one message, so an append is atomic.

Personal content is sealed on its way to the log and opened on its way back
(`runtime.sealing`) by the store's `Sealer`. A store made without one (`EventStore(js)`: a
tool or test with no keyring) appends plain events (the format of the log before sealing,
which every reader still reads) and reads plain events only: one with sealed content raises
`SealedWithoutKeyring` rather than handing out ciphertext as text. Every service's store
(`ServiceHost.connect`) has one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, NoStreamResponseError, NotFoundError

from contracts.base import DomainError, ErrorCode
from contracts.events import STREAMS
from contracts.rules import is_token
from runtime import headers as h
from runtime import telemetry
from runtime.codec import decode_event, encode, event_type
from runtime.logs import bound, get_logger
from runtime.sealing import Sealer, open_plain
from runtime.stream_check import stream_differences

log = get_logger(__name__)

WRONG_LAST_SEQUENCE = 10071  # JetStream's error code for a failed expected-sequence check
STREAM_NAME_IN_USE = 10058
DUPLICATE_IN_PROCESS = 10158  # the same event id is still being agreed on (no quorum yet)
DUPLICATE_WINDOW_S = 120.0


class ConcurrencyError(Exception):
    """The aggregate changed since it was read: the write was stale."""


class LogUnavailable(DomainError):
    """The event log did not confirm a write: no server of its stream answered in time (a
    cluster that lost the majority of the stream's replicas, or a server that is down). The
    event may still land once the servers agree again, so a retry sends the same event id,
    which JetStream stores once (503)."""

    def __init__(self, stream: str) -> None:
        super().__init__(
            ErrorCode.UNAVAILABLE,
            f"the event log ({stream}) is not taking writes right now (too few of its servers"
            " are up), so this change was not confirmed and may still be kept once they are"
            " back: look before you try again in a moment",
        )
        self.stream = stream


class InvalidSubjectToken(DomainError):
    """A part of a subject that is not a token: it could be a wildcard or split the subject."""

    def __init__(self, part: str, value: str) -> None:
        super().__init__(ErrorCode.INVALID, f"{part} must be 1 to 64 letters, digits, '-' or '_'")
        self.value = value


@dataclass(frozen=True)
class RecordedEvent:
    """An event as it lies on the log, with its position and metadata."""

    event: object
    stream: str
    seq: int
    subject: str
    event_id: str
    tenant: str
    aggregate_id: str
    occurred_at: str
    correlation_id: str
    headers: dict[str, str] = field(default_factory=dict)
    causation_id: str = ""  # the event this one was appended in reaction to ("" for none)

    @property
    def type(self) -> str:
        return event_type(self.event)

    @property
    def at(self) -> datetime:
        """When the event was appended (UTC)."""
        return datetime.fromisoformat(self.occurred_at) if self.occurred_at else datetime.now(UTC)


def stream_for(context: str) -> str:
    return STREAMS.get(context, context.upper())


def events_of(stream: str, aggregate: str = "") -> str:
    """The subjects of every event on a context's stream, or of one kind of its aggregates
    (of every tenant)."""
    if aggregate:
        return f"evt.{stream.lower()}.*.{aggregate}.>"
    return f"evt.{stream.lower()}.>"


def subject_for(context: str, tenant: str, aggregate: str, aggregate_id: str) -> str:
    """The subject of one aggregate's events; every part must be a token (no `*`, `>`, `.`)."""
    parts = {"context": context, "tenant": tenant, "aggregate": aggregate, "id": aggregate_id}
    for part, value in parts.items():
        if not is_token(value):
            raise InvalidSubjectToken(part, value)
    return f"evt.{context}.{tenant}.{aggregate}.{aggregate_id}"


def derived_id(*parts: str) -> str:
    """A deterministic id, so a reaction to the same event always produces the same id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "simtune:" + ":".join(parts)))


async def to_recorded(
    stream: str,
    seq: int,
    subject: str,
    data: bytes,
    headers: dict | None,
    sealer: Sealer | None = None,
) -> RecordedEvent:
    """A message of the log as a RecordedEvent, its personal fields opened by `sealer`
    (`ForgottenEvent` for a forgotten tenant); with no sealer, a plain event only."""
    headers = dict(headers or {})
    parts = subject.split(".")
    tenant = headers.get(h.TENANT, parts[2] if len(parts) > 2 else "")
    return RecordedEvent(
        event=open_plain(data) if sealer is None else await sealer.open(stream, tenant, data),
        stream=stream,
        seq=seq,
        subject=subject,
        event_id=headers.get(h.EVENT_ID, ""),
        tenant=tenant,
        aggregate_id=parts[4] if len(parts) > 4 else "",
        occurred_at=headers.get(h.OCCURRED_AT, ""),
        correlation_id=headers.get(h.CORRELATION, ""),
        headers=headers,
        causation_id=headers.get(h.CAUSATION, ""),
    )


class EventStore:
    """The log of every context. `replicas` (`SIMTUNE_STREAM_REPLICAS`) is how many servers
    of a cluster keep each stream this store creates: 1 on a single server, 3 or 5 in a
    cluster, which then takes writes while a majority of them is up."""

    def __init__(
        self, js: JetStreamContext, sealer: Sealer | None = None, *, replicas: int = 1
    ) -> None:
        self._js = js
        self.sealer = sealer
        self.replicas = replicas
        self.key = uuid.uuid4().hex  # names this connection's view of the log (state caches)

    async def ensure_stream(self, context: str) -> str:
        """Create the context's stream if it is missing: file storage, kept forever, on
        `replicas` servers.

        An existing stream is verified, never changed: its operators may have given it other
        limits, and changing its replicas moves its data between servers, which is theirs to
        decide. A difference in what the log relies on (subjects, storage, retention,
        deny_delete, deny_purge, replicas) is logged as a warning that names it.
        """
        name = stream_for(context)
        config = api.StreamConfig(
            name=name,
            subjects=[f"evt.{context}.>"],
            storage=api.StorageType.FILE,
            retention=api.RetentionPolicy.LIMITS,
            max_age=0,
            duplicate_window=DUPLICATE_WINDOW_S,
            deny_delete=True,
            deny_purge=True,
            allow_direct=True,
            num_replicas=self.replicas,
        )
        try:
            info = await self._js.stream_info(name)
        except NotFoundError:
            try:
                await self._js.add_stream(config)
                return name
            except APIError as exc:
                if exc.err_code != STREAM_NAME_IN_USE:  # another service created it just now
                    raise
                info = await self._js.stream_info(name)
        differences = stream_differences(config, info.config)
        if differences:
            log.warning("stream.differs", stream=name, differences=differences)
        return name

    async def append(
        self,
        context: str,
        tenant: str,
        aggregate: str,
        aggregate_id: str,
        event: object,
        *,
        expected_seq: int | None,
        event_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> int:
        """Append one event; returns its stream sequence.

        `expected_seq` is the stream sequence of the aggregate's last event (0 = none yet);
        None skips the check. A stale `expected_seq` raises ConcurrencyError. The event must
        decode under the log's own rules (msgspec.ValidationError otherwise), so nothing
        lands on the log that a projection could not read back. Its personal fields are
        then sealed (`TenantForgotten` for a tenant whose key was destroyed). A log that
        takes no write (no quorum of its servers) raises `LogUnavailable`.
        """
        subject = subject_for(context, tenant, aggregate, aggregate_id)
        data = encode(event)
        decode_event(data)
        if self.sealer is not None:
            data = await self.sealer.seal(stream_for(context), tenant, event, data=data)
        event_id = event_id or str(uuid.uuid4())
        headers = {
            h.EVENT_ID: event_id,
            h.EVENT_TYPE: event_type(event),
            h.TENANT: tenant,
            h.OCCURRED_AT: datetime.now(UTC).isoformat(timespec="milliseconds"),
            h.CORRELATION: correlation_id or bound("correlation_id") or event_id,
        }
        causation_id = causation_id or bound("causation_id")  # set while a reactor reacts
        if causation_id:
            headers[h.CAUSATION] = causation_id
        if expected_seq is not None:
            headers[h.EXPECTED_LAST_SEQ] = str(expected_seq)
        telemetry.inject(headers)
        try:
            ack = await self._js.publish(subject, data, headers=headers)
        except (NatsTimeout, NoStreamResponseError) as exc:
            # Unanswered, the append may still land once the servers agree again; the
            # command's event id makes a retry within the duplicate window a no-op.
            raise LogUnavailable(stream_for(context)) from exc
        except APIError as exc:
            if exc.err_code == DUPLICATE_IN_PROCESS:  # an earlier try still undecided
                raise LogUnavailable(stream_for(context)) from exc
            if exc.err_code == WRONG_LAST_SEQUENCE:
                raise ConcurrencyError(
                    f"{aggregate} {aggregate_id} was changed by someone else; reload and retry"
                ) from exc
            raise
        return ack.seq

    async def recorded(
        self, stream: str, seq: int, subject: str, data: bytes | None, headers: dict | None
    ) -> RecordedEvent:
        """A message of the log as a RecordedEvent, opened with this store's sealer."""
        return await to_recorded(stream, seq, subject, data or b"", headers, self.sealer)

    async def load(
        self, context: str, tenant: str, aggregate: str, aggregate_id: str, *, after: int = 0
    ) -> tuple[list[RecordedEvent], int]:
        """The events of one aggregate in order (those after stream sequence `after`), and
        the sequence of the last one (`after` when there are none)."""
        stream = stream_for(context)
        subject = subject_for(context, tenant, aggregate, aggregate_id)
        events: list[RecordedEvent] = []
        seq = after + 1
        while True:
            try:
                msg = await self._js.get_msg(
                    stream, seq=seq, subject=subject, direct=True, next=True
                )
            except NotFoundError:
                break
            events.append(await self.recorded(stream, msg.seq, msg.subject, msg.data, msg.headers))
            seq = msg.seq + 1
        return events, (events[-1].seq if events else after)
