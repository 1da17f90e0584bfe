"""Custom benchmark questions as people write them, for the API and the console alike.

A question may come without an id (one is made up) or a domain ("custom"); its source is
always `custom`. Fields a question list carries besides these (`source`, `document_id`, ...
as `GET /api/benchmark/questions` shows them) are ignored, so an exported list can be sent
back. A JSONL file is read line by line and refused as a whole when any line is bad, every
bad line named by its number, so a fixed file can simply be sent again.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from msgspec import Meta

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import Difficulty, Domain, Kind, Question
from contracts.rules import PROSE_PATTERN, Token, explain
from gateway.http.fields import fields_from

MAX_LINES_NAMED = 10  # a file of many bad lines names the first ones, then how many more
Asked = Annotated[str, Meta(min_length=1, max_length=2000, pattern=PROSE_PATTERN)]
Expected = Annotated[str, Meta(min_length=1, max_length=4000, pattern=PROSE_PATTERN)]
Rubric = Annotated[str, Meta(max_length=2000, pattern=PROSE_PATTERN)]


class QuestionIn(msgspec.Struct, frozen=True, kw_only=True):
    """One custom question: what to ask, the reference answer, and how to judge it."""

    question: Asked
    reference: Expected
    id: Token | None = None
    domain: Domain = "custom"
    kind: Kind = "text"
    difficulty: Difficulty = "medium"
    rubric: Rubric = ""

    def question_of(self) -> Question:
        return fields_from(
            Question, self, id=self.id or f"c-{uuid.uuid4().hex[:12]}", source="custom"
        )


def from_jsonl(body: bytes) -> list[Question]:
    """The questions of a JSONL file, one object a line (blank lines skipped); DomainError
    (400) naming every bad line when there is one."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError(
            ErrorCode.INVALID, "the file must be UTF-8 text, one JSON object a line"
        ) from exc
    questions, bad = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            questions.append(msgspec.json.decode(line, type=QuestionIn).question_of())
        except msgspec.ValidationError as exc:
            bad.append(f"line {number}: {explain(str(exc))}")
        except msgspec.DecodeError:
            bad.append(f"line {number}: is not a JSON object")
    if bad:
        more = len(bad) - MAX_LINES_NAMED
        named = "; ".join(bad[:MAX_LINES_NAMED]) + (f"; and {more} more" if more > 0 else "")
        raise DomainError(ErrorCode.INVALID, f"nothing was imported: {named}")
    if not questions:
        raise DomainError(
            ErrorCode.INVALID, "the file holds no questions: write one JSON object a line"
        )
    return questions
