"""Checking an answer's citation markers against the sources its prompt numbered.

What counts as a marker: square brackets holding one or more integers of one to three
digits, separated by commas or semicolons, spaces allowed anywhere inside: `[1]`,
`[1, 3]`, `[ 2 ]`; `[1][2]` is two markers side by side. Each cited number is one marker,
so `[1, 7]` holds two. Not markers, and left exactly as written:

- brackets holding anything else: `[a]`, `list[int]`, `[1.5]`, `[1-3]`, `[^1]`;
- four or more digits, such as a year: `[2024]`;
- a link's text, `[1](https://...)`;
- anything inside `inline code` or a ``` fenced block ```, where `xs[0]` is code.

A number naming no given source (`[0]`, or `[7]` when three were given) is an invalid
citation: it is removed (from a group only the bad numbers go) and counted. Removing one
leaves the text tidy: no doubled spaces and no space left before punctuation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.expert.answering.sources import Source

MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\](?!\()")
_NUMBER = re.compile(r"\d+")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
_CLOSING = set(".,;:!?)]}") | {"\n", "\r", ""}


@dataclass(frozen=True)
class CheckedAnswer:
    text: str
    cited: list[Source]
    removed: int
    markers: int


def check_citations(answer: str, sources: list[Source]) -> CheckedAnswer:
    """The answer with invalid markers removed, the sources it validly cites (in order of
    first citation, each once), how many cited numbers were removed, and how many there
    were in all."""
    by_number = {source.n: source for source in sources}
    cited: dict[int, Source] = {}
    markers = removed = 0
    out: list[str] = []
    position = 0
    for start, end in _prose_spans(answer):
        for match in MARKER.finditer(answer, start, end):
            numbers = [int(n) for n in _NUMBER.findall(match.group(1))]
            valid = [n for n in numbers if n in by_number]
            markers += len(numbers)
            removed += len(numbers) - len(valid)
            for n in valid:
                cited.setdefault(n, by_number[n])
            out.append(answer[position : match.start()])
            position = match.end()
            if len(valid) == len(numbers):
                out.append(match.group(0))
            elif valid:
                out.append("[" + ", ".join(map(str, valid)) + "]")
            else:
                position = _tidy_gap(out, answer, position)
    out.append(answer[position:])
    return CheckedAnswer("".join(out), list(cited.values()), removed, markers)


def strip_markers(text: str) -> str:
    """`text` without any citation markers, spaced as if they had never been there."""
    out: list[str] = []
    position = 0
    for start, end in _prose_spans(text):
        for match in MARKER.finditer(text, start, end):
            out.append(text[position : match.start()])
            position = _tidy_gap(out, text, match.end())
    out.append(text[position:])
    return "".join(out)


def _prose_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) stretches of `text` outside code."""
    spans, position = [], 0
    for code in _CODE.finditer(text):
        spans.append((position, code.start()))
        position = code.end()
    spans.append((position, len(text)))
    return spans


def _tidy_gap(out: list[str], text: str, position: int) -> int:
    """After a marker is dropped, join what came before (`out`) and what follows
    (`text[position:]`) with at most one space, and none before punctuation or a line end.
    Returns where copying `text` resumes."""
    before = "".join(out)
    after = text[position : position + 1]
    trimmed = before.rstrip(" \t")
    if trimmed != before and (after in _CLOSING or after in " \t"):
        out[:] = [trimmed]
    elif trimmed == "" or trimmed.endswith("\n"):
        while position < len(text) and text[position] in " \t":
            position += 1
    return position
