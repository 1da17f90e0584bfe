"""Personal content on the event log is ciphertext: sealed on append, opened on read.

An event type names the top-level fields that can hold what a person wrote or their
documents' text (`personal` on `contracts.base.Event`: questions, answers, passages, file
names, feedback, style guides, dataset examples...). The event store seals each such field
that is not empty with the tenant's data key (`runtime.keyring`, AES-256-GCM) before the
event reaches the log; ids, timestamps, counters, statuses and hashes stay plain, so the log
stays auditable. Forgetting a person is destroying that key (crypto-shredding): the stream
itself, which forbids deletes, never has to change.

On the log a sealed field is a JSON string, `"sealed:v1:" + base64url(nonce + ciphertext)`,
of the field's own JSON value. Its associated data binds the stream, the event type and the
field (the keyring binds the tenant), so a sealed value copied into another field, event
type, stream or tenant does not open.

Reading is the other way round, and always ends in the log's own decoder
(`runtime.codec.decode_event`), so types and constraints are exactly those of a plain event:

- Every event of a forgotten tenant (its data key destroyed) reads as `ForgottenEvent`,
  whatever its type: projections skip it (their rows do not come back on a rebuild),
  reactors and aggregates ignore it. Appending personal content for that tenant raises
  `TenantForgotten`.
- An event without any sealed value (a type with no personal fields, nearly all of them, or
  one written before sealing) is decoded as it is, at the cost of one byte search.
- A field whose value does not start with the mark is plain (a pre-sealing event).

`Sealer` needs the keyring, and so a service. A reader without one (`open_plain`: the
gateway, a tool) reads plain events as before and refuses, with a sentence saying why, an
event whose personal content is sealed; the gateway's live feed never needs to read one
(see `runtime.projection.public_view`).
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache

import msgspec

from contracts.base import DomainError, ErrorCode
from runtime.codec import _tag, decode_event, encode, event_class, event_type
from runtime.keyring import Forgotten, Keyring
from runtime.secrets import SecretUnreadable

MARK = "sealed:v1:"
_MARK_BYTES = MARK.encode()


class ForgottenEvent(msgspec.Struct, frozen=True, tag_field="type", tag="runtime.ForgottenEvent"):
    """What any event of a forgotten tenant reads as: only its type (`of`) is left."""

    of: str


class TenantForgotten(DomainError):
    """The tenant's data key was destroyed: nothing personal of theirs can be written again."""

    def __init__(self, tenant: str) -> None:
        super().__init__(ErrorCode.NOT_FOUND, "this person's data was deleted")
        self.tenant = tenant


class SealedWithoutKeyring(SecretUnreadable):
    """A reader with no keyring met an event whose personal content is sealed."""

    def __init__(self, type_: str) -> None:
        super().__init__(
            f"a {type_} event holds sealed personal content and this reader has no keyring"
            " to open it; read it through a service's event store"
        )
        self.type = type_


def personal_fields(event_class: type) -> tuple[str, ...]:
    """The top-level fields of `event_class` that are sealed on the log."""
    return tuple(getattr(event_class, "personal", ()))


@lru_cache(maxsize=1024)  # a few hundred (stream, type, field) triples in all
def aad(stream: str, type_: str, field: str) -> str:
    """What a sealed field is bound to besides its tenant (unambiguous: a JSON list)."""
    return json.dumps(["simtune.event", stream, type_, field])


class Sealer:
    """Seals an event's personal fields for the log and opens them again."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    async def seal(
        self, stream: str, tenant: str, event: object, *, data: bytes | None = None
    ) -> bytes:
        """The event's JSON as it goes on the log (`data`: its plain JSON, when the caller
        encoded it already). `TenantForgotten` when it carries personal content and the
        tenant's key was destroyed."""
        fields = personal_fields(type(event))
        data = encode(event) if data is None else data
        if not fields:
            return data
        raw = msgspec.json.decode(data)
        todo = [name for name in fields if raw.get(name) not in (None, "", [], {})]
        if not todo:
            return data
        type_ = event_type(event)
        for name in todo:
            try:
                sealed = await self.keyring.seal(
                    tenant, encode(raw[name]), aad(stream, type_, name)
                )
            except Forgotten:
                raise TenantForgotten(tenant) from None
            raw[name] = MARK + base64.urlsafe_b64encode(sealed).decode("ascii")
        return encode(raw)

    async def open(self, stream: str, tenant: str, data: bytes) -> object:
        """The event `data` holds, its personal fields opened; `ForgottenEvent` for a
        forgotten tenant; `UnknownEvent`/`msgspec.ValidationError` as `decode_event`;
        `SecretUnreadable` for a sealed value that was moved or changed."""
        if await self.keyring.is_forgotten(tenant):
            return ForgottenEvent(of=_tag(data))
        if _MARK_BYTES not in data:
            return decode_event(data)
        raw = msgspec.json.decode(data)
        type_ = raw.get("type", "?") if isinstance(raw, dict) else "?"
        fields = _personal_by_tag(type_) if isinstance(type_, str) else ()
        try:
            for name in fields:
                value = raw.get(name)
                if isinstance(value, str) and value.startswith(MARK):
                    plain = await self.keyring.open(
                        tenant, _unmark(value), aad(stream, type_, name)
                    )
                    raw[name] = msgspec.json.decode(plain)
        except Forgotten:  # destroyed since `is_forgotten` was cached (or never made)
            return ForgottenEvent(of=type_)
        return decode_event(encode(raw))


def open_plain(data: bytes) -> object:
    """The event `data` holds, for a reader with no keyring: as `decode_event`, but an
    event with sealed personal content raises `SealedWithoutKeyring` instead of reading
    the sealed text as if it were the person's."""
    try:
        event = decode_event(data)
    except msgspec.ValidationError:
        if _MARK_BYTES in data and _sealed_in(msgspec.json.decode(data)):
            raise SealedWithoutKeyring(_tag(data)) from None
        raise
    fields = personal_fields(type(event))
    if fields and _MARK_BYTES in data:
        for name in fields:
            value = getattr(event, name, None)
            if isinstance(value, str) and value.startswith(MARK):
                raise SealedWithoutKeyring(event_type(event))
    return event


def _sealed_in(raw: object) -> bool:
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return False
    for name in _personal_by_tag(raw["type"]):
        value = raw.get(name)
        if isinstance(value, str) and value.startswith(MARK):
            return True
    return False


def _unmark(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value[len(MARK) :].encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise SecretUnreadable("A sealed field of this event is damaged.") from None


def _personal_by_tag(type_: str) -> tuple[str, ...]:
    event_class_ = event_class(type_)
    return personal_fields(event_class_) if event_class_ is not None else ()
