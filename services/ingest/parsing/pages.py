"""What parsing gives: one :class:`Page` of text per physical page, or a :class:`ParseError`
whose reason a person can act on; and the checks every format shares."""

from __future__ import annotations

from dataclasses import dataclass

MIN_PAGE_TEXT = 10
"""A page "has text" with at least this many letters or digits; fewer are stray marks."""

_CODES = frozenset({"encrypted", "corrupt", "no_text", "too_many_pages"})


@dataclass(frozen=True)
class Page:
    """The text of one physical page (``number`` is 1-based)."""

    number: int
    text: str


class ParseError(Exception):
    """The document cannot be turned into text; ``code`` says why, ``reason`` explains it."""

    def __init__(self, code: str, reason: str) -> None:
        if code not in _CODES:
            raise ValueError(f"unknown parse error code {code!r}")
        super().__init__(reason)
        self.code = code
        self.reason = reason


def has_text(text: str) -> bool:
    return sum(ch.isalnum() for ch in text) >= MIN_PAGE_TEXT


def too_many_pages(count: int, max_pages: int) -> ParseError:
    return ParseError(
        "too_many_pages",
        f"This document has {count} pages, but Simtune accepts at most {max_pages} pages per "
        "document. Split it into smaller files and upload them separately.",
    )
