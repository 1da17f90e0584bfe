"""Shared building blocks of every contract: the base classes and the error reply.

Every event, command, query and reply is a frozen msgspec Struct whose tag is a stable string
("<context>.<Name>"), never a class path, so renaming a class never breaks the log.

Every command and query knows its address once: `subject` is the NATS subject the service
serving it listens on (`cmd.<context>.<verb>`, `qry.<context>.<name>`) and `reply` names the
contract it answers with (a name in the message's own module or context package, or in this
one). The runtime's `ask` reads both off the message, so no caller spells a subject.
"""

from __future__ import annotations

import sys
from typing import Annotated, ClassVar

import msgspec

from contracts.rules import Count, ObjectName, Sha256, Token


class Event(msgspec.Struct, frozen=True, tag_field="type", kw_only=True):
    """A fact that happened. Past tense. New fields get defaults.

    `personal` names the top-level fields that can hold what a person wrote or their
    documents' text (file names included): the event store seals them with the tenant's data
    key before they reach the log (`runtime.sealing`), so forgetting the person is destroying
    that key. Ids, timestamps, counters, statuses, hashes and object references stay plain."""

    personal: ClassVar[tuple[str, ...]] = ()


class Command(msgspec.Struct, frozen=True, tag_field="type", kw_only=True):
    """A request to change something. Imperative. Carries the tenant it acts for."""

    subject: ClassVar[str] = ""  # "cmd.<context>.<verb>"
    reply: ClassVar[str] = "Accepted"

    tenant: Token = "local"


class Query(msgspec.Struct, frozen=True, tag_field="type", kw_only=True):
    """A request to read something.

    `after_seq` asks for read-your-writes: the answer waits until the service's projections
    have applied the event at that sequence of the context's stream (a command's reply seq).
    """

    subject: ClassVar[str] = ""  # "qry.<context>.<name>"
    reply: ClassVar[str] = ""

    tenant: Token = "local"
    after_seq: Count = 0


Message = Command | Query

# Every command and every query, as NATS subject filters: what a NATS user may send.
EVERY_COMMAND = "cmd.>"
EVERY_QUERY = "qry.>"


def subject_of(message: Message | type[Message], context: str = "") -> str:
    """Where `message` is served. A message every service answers (its health, say) has a
    `{context}` in its subject, filled with the service asked."""
    cls = message if isinstance(message, type) else type(message)
    if not cls.subject:
        raise TypeError(f"{cls.__name__} has no subject")
    if "{context}" in cls.subject and not context:
        raise TypeError(f"{cls.__name__} is served by every service: name the context")
    return cls.subject.format(context=context)


def reply_of(message: Message | type[Message]) -> type:
    """The contract `message` is answered with."""
    cls = message if isinstance(message, type) else type(message)
    context = cls.__module__.split(".")[:2]  # contracts.<context>: a module or a package
    for name in (cls.__module__, ".".join(context), __name__):
        found = getattr(sys.modules[name], cls.reply, None)
        if isinstance(found, type):
            return found
    raise TypeError(f"{cls.__name__}.reply names {cls.reply!r}, which is not a contract")


def context_of(subject: str) -> str:
    """`cmd.<context>.<verb>` -> context."""
    parts = subject.split(".")
    return parts[1] if len(parts) > 1 else subject


class Reply(msgspec.Struct, frozen=True, kw_only=True):
    """What a command or query answers with."""


class Accepted(Reply, frozen=True, kw_only=True):
    """A command's reply: the stream sequence of the event it appended (0 when nothing changed)."""

    id: str
    seq: int = 0


class ObjectRef(msgspec.Struct, frozen=True, kw_only=True):
    """A large payload in a NATS Object Store bucket, checked against its sha256 on read."""

    bucket: Token
    name: ObjectName
    sha256: Sha256
    size: Count


class Download(Reply, frozen=True, kw_only=True):
    """A file a service made for the person to take away (an export): where it lies in the
    object store and the name to save it under. The gateway streams every one of them the
    same way, as an attachment of that name."""

    object: ObjectRef
    filename: str


class RebuildProjections(Command, frozen=True, tag="runtime.RebuildProjections"):
    """Drop a service's read models and replay them from the event log."""

    subject = "cmd.{context}.rebuild_projections"
    reply = "RebuildJob"


class ProjectionsRebuilt(Reply, frozen=True, kw_only=True):
    service: str
    projections: dict[str, int]  # projection name -> events replayed


class GetRebuildJob(Query, frozen=True, tag="runtime.GetRebuildJob"):
    """How far a rebuild started by `RebuildProjections` has come."""

    subject = "qry.{context}.rebuild_job"
    reply = "RebuildJob"

    job_id: Token


class ProjectionProgress(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    replayed: int = 0  # events applied to the shadow copy so far
    total: int = 0  # events the rebuild expects to replay (grows while new events arrive)


class RebuildJob(Reply, frozen=True, kw_only=True):
    """A rebuild of a service's projections into shadow tables, swapped in when complete."""

    id: str
    service: str
    state: str  # running | done | failed
    projections: list[ProjectionProgress] = []
    error: str | None = None
    started_at: str = ""
    finished_at: str | None = None


class GetHealth(Query, frozen=True, tag="runtime.GetHealth"):
    """The state of a service's background work: its projections and its reactors."""

    subject = "qry.{context}.health"
    reply = "ServiceHealth"


class ComponentHealth(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One projection or reactor of a service, as `/health` reports it."""

    name: str
    kind: str  # projection | reactor
    state: str  # projection: running | rebuilding | waiting | stuck | stopped;
    # reactor: running | stopped | failed
    detail: str | None = None  # why it is waiting, stuck or failed, in one sentence
    service: str = ""
    checkpoints: dict[str, int] = {}  # projection: stream -> last applied sequence
    lag: int = 0  # projection: events on its streams not applied yet
    parked: int = 0  # reactor: messages it gave up on

    @property
    def failing(self) -> bool:
        """Stuck or failed: what makes `/health` answer 503."""
        return self.state in ("stuck", "failed")


class ServiceHealth(Reply, frozen=True, kw_only=True):
    service: str
    components: list[ComponentHealth] = []


# The keys of sealed objects (`runtime.sealed_objects`), for a process with no keyring (the
# gateway streams uploads and downloads): every service answers, for the query's tenant,
# which the gateway stamps from the person signed in. A key opens for its tenant, bucket
# and object alone.
ObjectKeyBytes = Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]
WrappedKey = Annotated[bytes, msgspec.Meta(min_length=29, max_length=512)]  # nonce, key, tag


class ObjectKeyQuery(Query, frozen=True, tag=False):
    """A query for the key of the tenant's object `bucket`/`name`: a key opens for its
    tenant, bucket and object alone, so all three travel with every such query."""

    bucket: Token
    name: ObjectName


class NewObjectKey(ObjectKeyQuery, frozen=True, tag="runtime.NewObjectKey"):
    """A fresh key for an object the tenant is about to store under `name` (which starts
    with `<tenant>/`): the key, and the key wrapped by the tenant's data key."""

    subject = "qry.{context}.new_object_key"
    reply = "ObjectKey"


class OpenObjectKey(ObjectKeyQuery, frozen=True, tag="runtime.OpenObjectKey"):
    """The key of the tenant's object `bucket`/`name`, from the wrapped key stored with it:
    not_found when the tenant's data key was destroyed (the object is forgotten), conflict
    when the wrapped key is not of this tenant's object."""

    subject = "qry.{context}.open_object_key"
    reply = "ObjectKey"

    wrapped: WrappedKey


class ObjectKey(Reply, frozen=True, kw_only=True):
    key: ObjectKeyBytes
    wrapped: WrappedKey


class ErrorReply(msgspec.Struct, frozen=True):
    """A typed error reply; `error` is one of ErrorCode, mapped to an HTTP status by the gateway."""

    error: str
    detail: str


class DomainError(Exception):
    """A failure a caller can act on: `code` is an ErrorCode, `detail` one readable sentence."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail

    @property
    def status(self) -> int:
        return HTTP_STATUS.get(self.code, 500)


class ErrorCode:
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    INVALID = "invalid"
    TOO_LARGE = "too_large"
    UNSUPPORTED_TYPE = "unsupported_media_type"
    UNAVAILABLE = "unavailable"
    BUSY = "busy"  # a bounded queue is full: try again shortly (503 with Retry-After)
    BACKEND = "backend_failed"  # the expert's model server refused or failed (502)
    NOT_ENOUGH_DATA = "not_enough_data"  # too few examples to train on (422)
    CONFIRM = "confirmation_required"  # a hosted run's cost must be confirmed first (409)
    OVER_BUDGET = "over_budget"  # a hosted run would pass the expert's budget (422)
    WRONG_BASE_MODEL = "wrong_base_model"  # an adapter for another base model (422)
    RATE_LIMITED = "rate_limited"  # asked too often in a short time: wait and try again (429)
    INTERNAL = "internal"


HTTP_STATUS: dict[str, int] = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.INVALID: 400,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_TYPE: 415,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.BUSY: 503,
    ErrorCode.BACKEND: 502,
    ErrorCode.NOT_ENOUGH_DATA: 422,
    ErrorCode.CONFIRM: 409,
    ErrorCode.OVER_BUDGET: 422,
    ErrorCode.WRONG_BASE_MODEL: 422,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL: 500,
}
