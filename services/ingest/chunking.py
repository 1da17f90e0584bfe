"""Split the pages of a document into overlapping passages (chunks) for retrieval.

A chunk never crosses a page break, so the page a citation names is the page the whole
passage is printed on (a sentence that runs over a page break is cut there: exact page
citations are worth more than that sentence). Within a page, each chunk has at most ``size`` characters
and ends, by preference, at a paragraph break, else at the end of a sentence, else between
two words; those preferred cut points are only used when they leave the chunk at least half
full. A word longer than ``size`` is the only thing ever cut in the middle.

Consecutive chunks overlap: the next chunk starts at the first word that begins at most
``overlap`` characters before the end of the previous one, so about ``overlap`` characters
are repeated (less when the words do not line up). A chunk's ``page`` is the page on which
its first character lies. Chunks are never empty, and the same input always gives the same
chunks.
"""

from __future__ import annotations

import bisect
import re

from contracts.ingest import Chunk
from services.ingest.parsing import Page

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# The end of a sentence: terminal punctuation, optional closing quotes/brackets, then space.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*(?=\s)")
_WORD_START = re.compile(r"(?<!\S)\S")
_MIN_FILL = 0.5  # a paragraph or sentence cut must leave the chunk at least half full


def chunk_pages(pages: list[Page], *, size: int = 1000, overlap: int = 150) -> list[Chunk]:
    """Cut the text of ``pages`` into chunks of at most ``size`` characters, page by page."""
    _check(size, overlap)
    chunks: list[Chunk] = []
    for page in pages:
        for chunk in _chunk_run([page], size=size, overlap=overlap):
            chunks.append(Chunk(index=len(chunks), page=chunk.page, text=chunk.text))
    return chunks


def _check(size: int, overlap: int) -> None:
    if size < 1:
        raise ValueError(f"chunk size must be at least 1 character, got {size}")
    if overlap < 0:
        raise ValueError(f"chunk overlap cannot be negative, got {overlap}")
    if overlap >= size:
        raise ValueError(f"chunk overlap ({overlap}) must be smaller than chunk size ({size})")


def _chunk_run(pages: list[Page], *, size: int, overlap: int) -> list[Chunk]:
    """Chunk consecutive pages as one continuous text (a page break reads as a line break)."""
    text, starts, numbers = _join_pages(pages)
    content_end = len(text.rstrip())
    chunks: list[Chunk] = []
    position = after = _skip_space(text, 0)  # each chunk must reach beyond `after`
    while position < content_end:
        if content_end - position <= size:
            end = content_end
        else:
            end = _cut(text, position, size, after)
            if end is None:  # the overlap leaves no room for the next word: start afresh
                position = after = _skip_space(text, after)
                continue
        page = numbers[bisect.bisect_right(starts, position) - 1]
        chunks.append(Chunk(index=len(chunks), page=page, text=text[position:end].rstrip()))
        if end >= content_end:
            break
        position, after = _next_start(text, position, end, overlap), end
    return chunks


def _join_pages(pages: list[Page]) -> tuple[str, list[int], list[int]]:
    """One text for all pages, with where each page's text starts and its page number."""
    parts: list[str] = []
    starts: list[int] = []
    numbers: list[int] = []
    offset = 0
    for page in pages:
        body = page.text.replace("\r\n", "\n").replace("\r", "\n").strip()
        if not body:
            continue
        if parts:
            parts.append("\n")
            offset += 1
        starts.append(offset)
        numbers.append(page.number)
        parts.append(body)
        offset += len(body)
    return "".join(parts), starts, numbers


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _cut(text: str, start: int, size: int, after: int) -> int | None:
    """Where the chunk ``text[start:end]`` should end, with ``after < end <= start + size``.

    Returns None when a chunk that starts inside the previous one's overlap cannot reach
    past ``after`` without cutting a word.
    """
    limit = start + size
    earliest = max(start + max(1, int(size * _MIN_FILL)), after + 1)

    paragraph = None
    for match in _PARAGRAPH_BREAK.finditer(text, earliest, limit + 1):
        paragraph = match.start()
    if paragraph is not None:
        return paragraph

    sentence = None
    for match in _SENTENCE_END.finditer(text, earliest, limit + 1):
        sentence = match.end()
    if sentence is not None:
        return sentence

    # The last gap between words (text[limit] being a space means the window ends a word).
    lowest = max(start, after) + 1
    space = max(text.rfind(gap, lowest, limit + 1) for gap in (" ", "\n", "\t"))
    if space != -1:
        return space
    if start < after:
        return None
    return limit  # a single word longer than the whole chunk: the only mid-word cut


def _next_start(text: str, start: int, end: int, overlap: int) -> int:
    """Where the chunk after ``text[start:end]`` begins: a word start within the overlap."""
    if overlap:
        match = _WORD_START.search(text, max(end - overlap, start + 1), end)
        if match is not None:
            return match.start()
    return _skip_space(text, end)
