"""Encoding and decoding of contracts: events on the log, commands and replies on NATS."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from contracts.events import AnyEvent

T = TypeVar("T")

_encoder = msgspec.json.Encoder()
_event_decoder = msgspec.json.Decoder(AnyEvent)


class UnknownEvent(Exception):
    """An event this build does not know (written by a newer version); projections skip it."""


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def decode(data: bytes, type_: type[T]) -> T:
    return msgspec.json.decode(data, type=type_)


def decode_event(data: bytes) -> AnyEvent:
    try:
        return _event_decoder.decode(data)
    except msgspec.ValidationError as exc:
        if "Invalid value" in str(exc) and "$.type" in str(exc):
            raise UnknownEvent(str(exc)) from exc
        raise


def event_type(event: Any) -> str:
    """The stable tag of an event ("ingest.DocumentUploaded")."""
    return type(event).__struct_config__.tag
