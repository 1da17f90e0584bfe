"""A passage's structure, as the offline question writer reads it: paragraphs (`Block`), the
heading above each, and their sentences with whitespace collapsed (a line break inside a
sentence becomes a space).

A sentence is answerable when it starts with a capital letter, a digit or a quote, ends with a
full stop, and has `MIN_WORDS` to `MAX_WORDS` words, so a passage cut mid-sentence (chunks
overlap) never yields its fragments. A heading is a short line (at most `MAX_HEADING_WORDS`
words) with no closing punctuation, starting a paragraph and followed by text.
"""

from __future__ import annotations

import re

MIN_WORDS = 6
MAX_WORDS = 80
MAX_HEADING_WORDS = 10
MAX_HEADING_CHARS = 80

NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[A-Z]\.|[IVX]+\.)\s+")  # "3.1 ", "A. ", "IV. "
_SPACE = re.compile(r"\s+")
_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s|$)")
_OPENERS = "\"'“‘("
_ABBREVIATIONS = {"e.g", "i.e", "cf", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "no", "fig"}
_CONNECTORS = {
    "a", "an", "the", "of", "and", "or", "to", "in", "for", "with", "by", "on", "at",
    "from", "that", "is", "are", "as", "but",
}  # fmt: skip


class Block:
    """A paragraph: its sentences (whitespace collapsed), and the heading above it, if any."""

    def __init__(self, heading: str | None, lines: list[str]) -> None:
        self.heading = heading
        self.sentences = sentences(" ".join(lines))


def blocks(text: str) -> list[Block]:
    """The passage's paragraphs, each with the heading above it (a blank line or a heading
    ends a paragraph)."""
    lines = [line.strip() for line in text.splitlines()]
    found: list[Block] = []
    heading: str | None = None
    paragraph: list[str] = []

    def close() -> None:
        nonlocal heading, paragraph
        if paragraph:
            found.append(Block(heading, paragraph))
            heading, paragraph = None, []

    for n, line in enumerate(lines):
        following = lines[n + 1] if n + 1 < len(lines) else ""
        if not line:
            close()
        elif _after_sentence(paragraph) and _is_heading(line, following):
            close()
            heading = line
        else:
            paragraph.append(line)
    close()
    return found


def _after_sentence(paragraph: list[str]) -> bool:
    return not paragraph or re.search(r"[.!?:][\"'”’)\]]*$", paragraph[-1]) is not None


def _is_heading(line: str, following: str) -> bool:
    words = line.split()
    return (
        len(words) <= MAX_HEADING_WORDS
        and len(line) <= MAX_HEADING_CHARS
        and not re.search(r"[.,;:!?…]$", line)
        and any(ch.isalpha() for ch in line)
        and NUMBERING.sub("", line)[:1].isupper()
        and words[-1].lower() not in _CONNECTORS
        and not re.match(r"(?i)page\s+\d", line)
        and starts_sentence(following)
    )


def sentences(text: str) -> list[str]:
    """`text` with whitespace collapsed, cut after each sentence end."""
    text = _SPACE.sub(" ", text).strip()
    found, start = [], 0
    for end in _END.finditer(text):
        if _ends_sentence(text, start, end):
            found.append(text[start : end.end()].strip())
            start = end.end()
    if text[start:].strip():
        found.append(text[start:].strip())
    return found


def _ends_sentence(text: str, start: int, end: re.Match[str]) -> bool:
    if end.end() == len(text):
        return True
    if not starts_sentence(text[end.end() :].lstrip()):
        return False
    if end.group().startswith("."):
        said = text[start : end.start()].rsplit(" ", 2)
        before = said[-1]
        if before.lower() in _ABBREVIATIONS or (
            len(before) == 1 and before.isupper() and _initial(said[:-1])
        ):
            return False
    return True


def _initial(said: list[str]) -> bool:
    """Whether a capital letter and a full stop are a name's initial ("J. Smith", "John F.
    Kennedy") rather than a one-letter word ending a sentence ("… extend R. The …"): it
    starts the sentence or follows a capitalised word or another initial."""
    return not said or not said[-1] or said[-1][0].isupper()


def starts_sentence(text: str) -> bool:
    return bool(text) and (text[0].isupper() or text[0].isdigit() or text[0] in _OPENERS)


def answerable(sentence: str) -> bool:
    """A whole sentence of a useful length that states something (not a question, not cut)."""
    return (
        starts_sentence(sentence)
        and re.search(r"\.[\"'”’)\]]*$", sentence) is not None
        and MIN_WORDS <= len(sentence.split()) <= MAX_WORDS
    )
