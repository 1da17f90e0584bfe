"""A template's front matter: read as written, each mistake refused with the line to fix."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.base import DomainError, ErrorCode
from services.community.checks.front_matter import TemplateInvalid, parse

GOOD = """---
name: Differential diagnosis
description: Reason from symptoms to ranked causes.
domain: medicine
methodology: hypothetico-deductive
keywords: [diagnosis, triage]
version: 1.0.0
---
Rank the causes, most likely first.
"""


def refusal(text: str) -> TemplateInvalid:
    with pytest.raises(TemplateInvalid) as caught:
        parse(text)
    return caught.value


def test_a_good_template_gives_its_front_matter_and_body():
    meta, body = parse(GOOD)
    assert meta.name == "Differential diagnosis" and meta.domain == "medicine"
    assert meta.methodology == "hypothetico-deductive" and meta.keywords == ["diagnosis", "triage"]
    assert meta.version == "1.0.0"
    assert body == "Rank the causes, most likely first.\n"


def test_values_are_taken_as_written_and_keywords_may_be_one_line():
    text = GOOD.replace("name: Differential diagnosis", "name: yes").replace(
        "keywords: [diagnosis, triage]", "keywords: Triage, diagnosis,  triage"
    )
    meta, _ = parse(text)
    assert meta.name == "yes" and meta.keywords == ["Triage", "diagnosis"]


def test_block_lists_and_windows_line_ends_are_read():
    text = GOOD.replace("keywords: [diagnosis, triage]", "keywords:\n  - diagnosis\n  - triage")
    meta, body = parse(text.replace("\n", "\r\n"))
    assert (
        meta.keywords == ["diagnosis", "triage"]
        and body.strip() == "Rank the causes, most likely first."
    )


REFUSED = [
    ("no front matter", "Just text\n", 1, "starts with its front matter"),
    ("never closed", "---\nname: x\n", 1, "never closed"),
    ("broken yaml", GOOD.replace("[diagnosis, triage]", "[diagnosis, triage"), 6, "not valid YAML"),
    ("bad indent", GOOD.replace("domain: medicine", "domain: medicine\n  oops: x"), 5, "not valid YAML"),
    ("open quote", GOOD.replace("domain: medicine", 'domain: "medicine'), 4, "not valid YAML"),
    ("version as a number", GOOD.replace("1.0.0", "1.0"), 7, "'1.0' is not a version"),
    ("leading zero", GOOD.replace("1.0.0", "1.02.0"), 7, "not a version"),
    ("missing field", GOOD.replace("domain: medicine\n", ""), 7, "has no domain"),
    ("unknown field", GOOD.replace("domain: medicine\n", "domain: medicine\nautor: me\n"), 5, "unknown field 'autor'"),
    ("twice", GOOD.replace("domain: medicine\n", "domain: medicine\ndomain: law\n"), 5, "given twice (first on line 4)"),
    ("empty value", GOOD.replace("domain: medicine", "domain:"), 4, "domain is empty"),
    ("too long", GOOD.replace("Differential diagnosis", "x" * 81), 2, "at most 80"),
    ("a list for a name", GOOD.replace("name: Differential diagnosis", "name: [a, b]"), 2, "must be text"),
    ("no keywords", GOOD.replace("[diagnosis, triage]", "[]"), 6, "keywords are empty"),
    ("too many keywords", GOOD.replace("[diagnosis, triage]", str([f"k{i}" for i in range(13)])), 6, "at most 12"),
    ("a long keyword", GOOD.replace("triage]", "triage,\n  " + "k" * 41 + "]"), 7, "longer than 40"),
    ("a keyword on its line", GOOD.replace("keywords: [diagnosis, triage]", "keywords:\n  - ok\n  - [x]"), 8, "plain text"),
    ("not fields", "---\n- a\n- b\n---\nbody", 2, "one 'field: value' a line"),
    ("empty block", "---\n---\nbody", 1, "front matter is empty"),
    ("no body", GOOD.replace("Rank the causes, most likely first.\n", "  \n"), 9, "no content"),
    ("python tag", GOOD.replace("name: Differential diagnosis", "name: !!python/object/apply:os.system [ls]"), 2, "must be text"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "words"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_each_mistake_is_refused_naming_its_line(text, line, words):
    error = refusal(text)
    assert error.line == line and words in error.message
    assert error.detail == f"Line {line}: {error.message}"
    assert (
        isinstance(error, DomainError) and error.code == ErrorCode.INVALID and error.status == 400
    )


@settings(max_examples=60, deadline=None)
@given(
    name=st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=80),
    major=st.integers(0, 9999), minor=st.integers(0, 9999), patch=st.integers(0, 9999),
)  # fmt: skip
def test_any_one_line_name_and_version_read_back_unchanged(name, major, minor, patch):
    version = f"{major}.{minor}.{patch}"
    text = GOOD.replace("Differential diagnosis", f'"{name}"').replace("1.0.0", version)
    meta, _ = parse(text)
    assert (meta.name, meta.version) == (name, version)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=2, max_value=8))
def test_a_missing_field_is_named_at_the_closing_line_wherever_it_is(drop):
    lines = GOOD.split("\n")
    del lines[drop - 1 if drop < 8 else 1]
    error = refusal("\n".join(lines))
    assert error.line == 7 and "has no" in error.message
