"""What may be read of a sealed event without the keyring: the live feed and the gateway's
replay leave personal fields out (sealed or not), a reader without a keyring refuses sealed
content instead of taking it for text, and the log's encoding of an event is unchanged."""

from __future__ import annotations

import typing

import msgspec
import pytest

from contracts.answers import AnswerGiven
from contracts.base import ObjectRef
from contracts.events import AnyEvent
from contracts.expert import ExpertDeleted
from contracts.ingest import DocumentUploaded
from gateway.sse.replay import replayed
from runtime import headers as h
from runtime.codec import encode
from runtime.projection import public_raw, public_view
from runtime.sealing import MARK, SealedWithoutKeyring, open_plain, personal_fields

CANARY = "zebra-quartz-canary"


def answer() -> AnswerGiven:
    return AnswerGiven(
        answer_id="a1",
        expert_id="e1",
        mode="rag",
        question=f"What is {CANARY}?",
        answer=f"It is {CANARY}.",
        backend="local",
        model="tiny",
    )


def sealed_json(event) -> bytes:
    """The event as a sealer would put it on the log (the values are opaque here)."""
    raw = msgspec.json.decode(encode(event))
    for name in personal_fields(type(event)):
        if raw.get(name) not in (None, "", [], {}):
            raw[name] = MARK + "bm90LXJlYWxseS1jaXBoZXJ0ZXh0"
    return encode(raw)


def test_every_declared_personal_field_is_a_field_of_its_event():
    for event_type in typing.get_args(AnyEvent):
        assert set(personal_fields(event_type)) <= set(event_type.__struct_fields__), event_type


def test_the_live_feed_leaves_personal_fields_out():
    view = public_view(answer())
    assert view["answer_id"] == "a1" and view["expert_id"] == "e1" and view["model"] == "tiny"
    assert not {"question", "answer", "sources", "citations", "claims"} & set(view)
    assert CANARY not in encode(view).decode()
    plain = ExpertDeleted(expert_id="e1")
    assert public_view(plain) is plain  # a type with nothing to leave out goes as it is


def test_the_raw_view_leaves_out_the_same_fields_sealed_or_not():
    for data in (encode(answer()), sealed_json(answer())):
        raw = public_raw(msgspec.json.decode(data))
        assert set(raw) == set(msgspec.to_builtins(public_view(answer())))


def test_the_gateway_replay_needs_no_keyring():
    upload = DocumentUploaded(
        document_id="d1",
        expert_id="e1",
        revision=1,
        filename=f"{CANARY}.pdf",
        media_type="application/pdf",
        sha256="0" * 64,
        size=10,
        object=ObjectRef(bucket="documents", name="local/d1", size=10, sha256="0" * 64),
    )
    headers = {h.EVENT_TYPE: "ingest.DocumentUploaded", h.TENANT: "local"}
    said = replayed("INGEST", 7, "evt.ingest.local.document.d1", sealed_json(upload), headers)
    body = msgspec.json.decode(said)
    assert body["seq"] == 7 and body["type"] == "ingest.DocumentUploaded"
    assert body["tenant"] == "local" and body["aggregate_id"] == "d1"
    assert body["data"]["document_id"] == "d1" and "filename" not in body["data"]
    assert MARK.encode() not in said and CANARY.encode() not in said
    unknown = encode({"type": "future.Thing", "x": 1})
    assert replayed("INGEST", 8, "evt.ingest.local.thing.t1", unknown, {}) is None


def test_a_reader_without_a_keyring_refuses_sealed_content():
    assert open_plain(encode(answer())) == answer()  # a plain event (from before sealing)
    with pytest.raises(SealedWithoutKeyring):
        open_plain(sealed_json(answer()))  # a str field: it would decode as text
    rich = msgspec.json.decode(encode(answer()))
    rich["sources"] = MARK + "AAAA"  # a list field: it would not decode at all
    with pytest.raises(SealedWithoutKeyring):
        open_plain(encode(rich))
