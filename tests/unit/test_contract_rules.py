"""Every command and query refuses what the log could not keep: NUL and other control
characters, oversized texts and lists, ids that are not tokens. The contracts are found by
walking the class tree, so a new command is held to the same rules without a new test."""

from __future__ import annotations

import copy

import msgspec
import msgspec.inspect
import pytest

import contracts.events  # noqa: F401 - imports every context's contracts
from contracts.base import Command, DomainError, Query
from contracts.rules import clean_text, explain, is_token
from runtime.codec import decode, encode
from runtime.eventstore import subject_for
from tests.support.contract_strategies import minimal as minimal_value
from tests.support.contract_strategies import text_fields

HUGE_TEXT = "x" * 100_000
HUGE_LIST = ["x"] * 100_000
BAD_TEXTS = {
    "NUL": "a\x00b",
    "escape": "a\x1bb",
    "C1 control": "a\x85b",
    "100k characters": HUGE_TEXT,
}


def every_subclass(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        if sub.__struct_config__.tag is not None:
            found.append(sub)
        found += every_subclass(sub)
    return found


CONTRACTS = every_subclass(Command) + every_subclass(Query)
CASES = [(cls, path) for cls in CONTRACTS for path in text_fields(cls)]


def minimal(cls: type) -> dict:
    """The smallest valid instance, as the JSON a client would send."""
    body = minimal_value(msgspec.inspect.type_info(cls))
    decode(encode(body), cls)  # it is valid, so a failure below is the bad value's
    return body


def with_value(body: dict, path: tuple[str, ...], value: object) -> dict:
    body = copy.deepcopy(body)
    node = body
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return body


def test_contracts_were_found():
    names = {cls.__name__ for cls in CONTRACTS}
    assert {"CreateExpert", "UpdateExpert", "RegisterUpload", "Search"} <= names


@pytest.mark.parametrize(
    ("cls", "path"), CASES, ids=[f"{c.__name__}.{'.'.join(p)}" for c, p in CASES]
)
def test_every_text_and_list_field_refuses_what_the_log_cannot_keep(cls, path):
    body = minimal(cls)
    bad_values = list(BAD_TEXTS.values()) + [HUGE_LIST, ["ok", "a\x00b"]]
    for value in bad_values:
        data = encode(with_value(body, path, value))
        with pytest.raises(msgspec.ValidationError) as err:
            decode(data, cls)
        # The message names the field the person has to change.
        assert path[-1] in str(err.value), str(err.value)


@pytest.mark.parametrize("cls", CONTRACTS, ids=lambda c: c.__name__)
def test_tenant_must_be_a_token(cls):
    for tenant in (">", "*", "a.b", "", "t" * 65, "local\x00"):
        with pytest.raises(msgspec.ValidationError, match="tenant"):
            decode(encode({**minimal(cls), "tenant": tenant}), cls)


def test_prose_keeps_tabs_and_new_lines():
    from contracts.expert import CreateExpert

    body = {"profile": {"name": "Ada", "description": "Line one\n\tindented\r\nline three"}}
    assert decode(encode(body), CreateExpert).profile.description.startswith("Line one\n\t")


def test_an_explained_error_names_the_field_and_the_rule():
    from contracts.expert import CreateExpert

    with pytest.raises(msgspec.ValidationError) as err:
        decode(encode({"profile": {"name": "a\x00"}}), CreateExpert)
    assert explain(str(err.value)) == (
        "profile.name must not contain control characters (such as NUL or a line break)"
    )
    with pytest.raises(msgspec.ValidationError) as err:
        decode(encode({"profile": {"name": "a", "goals": ["g"] * 51}}), CreateExpert)
    assert explain(str(err.value)) == "profile.goals may list at most 50 items"


@pytest.mark.parametrize("bad", [">", "*", "a.b", "", "x" * 65, "a b", "é"])
def test_subjects_are_built_from_tokens_only(bad):
    assert not is_token(bad)
    for parts in (
        (bad, "local", "expert", "e1"),
        ("expert", bad, "expert", "e1"),
        ("expert", "local", bad, "e1"),
        ("expert", "local", "expert", bad),
    ):
        with pytest.raises(DomainError) as err:
            subject_for(*parts)
        assert err.value.status == 400


def test_clean_text_removes_control_characters_but_keeps_layout():
    assert clean_text("a\x00b\x07c\td\ne\x85f") == "abc\td\nef"
    assert clean_text("broken \ud800 surrogate") == "broken ? surrogate"


def test_urls_in_logs_lose_their_credentials():
    from runtime.logs import redact_url

    assert redact_url("nats://alice:s3cret@nats.internal:4222") == "nats://***@nats.internal:4222"
    assert (
        redact_url("postgresql+asyncpg://u:p@db/simtune") == "postgresql+asyncpg://***@db/simtune"
    )
    assert redact_url("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"
