"""Encoding and decoding of contracts: events on the log, commands and replies on NATS."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar, Union, get_args

import msgspec

from contracts.events import AnyEvent

T = TypeVar("T")

_encoder = msgspec.json.Encoder()
_known: list[type] = []  # event types added by `register_events` (plug-ins, newer contracts)
_event_decoder = msgspec.json.Decoder(AnyEvent)


class _Tag(msgspec.Struct):
    type: str = "?"


class UnknownEvent(Exception):
    """An event this build does not know (written by a newer version): it is held, never
    skipped, until a build that knows `type` reads it."""

    def __init__(self, type_: str, message: str) -> None:
        super().__init__(message)
        self.type = type_


def register_events(*types: type) -> None:
    """Teach the log's decoder more event types (each a tagged `contracts.base.Event`)."""
    global _event_decoder
    _known.extend(t for t in types if t not in _known)
    _event_decoder = msgspec.json.Decoder(Union[AnyEvent, *_known])  # noqa: UP007


def event_types() -> tuple[type, ...]:
    """Every event type the log's decoder knows: the contracts' and those registered."""
    return (*get_args(AnyEvent), *_known)


def event_class(tag: object) -> type | None:
    """The event type of a tag ("ingest.DocumentUploaded"); None for one this build lacks."""
    return _classes(len(_known)).get(tag) if isinstance(tag, str) else None


@cache
def _classes(_registered: int) -> dict[str, type]:
    return {t.__struct_config__.tag: t for t in event_types()}


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def json_text(value: Any) -> str:
    """`value` as JSON text: what a projection stores in a JSON column."""
    return _encoder.encode(value).decode()


def decode(data: bytes, type_: type[T]) -> T:
    return msgspec.json.decode(data, type=type_)


def decode_event(data: bytes) -> AnyEvent:
    try:
        return _event_decoder.decode(data)
    except msgspec.ValidationError as exc:
        if "Invalid value" in str(exc) and "$.type" in str(exc):
            raise UnknownEvent(_tag(data), str(exc)) from exc
        raise


def _tag(data: bytes) -> str:
    try:
        return msgspec.json.decode(data, type=_Tag).type
    except msgspec.MsgspecError:
        return "?"


def event_type(event: Any) -> str:
    """The stable tag of an event ("ingest.DocumentUploaded")."""
    return type(event).__struct_config__.tag
