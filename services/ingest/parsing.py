"""Page-by-page text extraction from PDF, plain-text and Markdown documents.

:func:`parse_document` returns one :class:`Page` per physical page (1-based, pages without
text included with ``text == ""``) or raises :class:`ParseError`, whose ``code`` is one of
``encrypted``, ``corrupt``, ``no_text``, ``too_many_pages`` and whose ``reason`` can be shown
to a non-technical person as is.

PDF text comes from PDFium (``pypdfium2``). Per page:

* PDFium's text rectangles (one per run of text) are read in content-stream order and runs
  on the same line are merged into line segments. Consecutive lines whose vertical gap is
  clearly larger than the usual line spacing of that column (or that jump back up the page)
  start a new paragraph. Each paragraph's text is extracted with one ``get_text_bounded``
  call on its area, keeping PDFium's spacing and line breaks; paragraphs are separated by
  ``"\\n\\n"``, lines inside them by ``"\\n"``. If paragraph areas overlap (text drawn out
  of order), the text is extracted line by line instead.
* Two columns: when a vertical gutter with (almost) no ink runs down the middle of the text
  and both sides look like text columns, the left column is read before the right one.
  Lines spanning the gutter (titles, full-width figures, footers) split the page into
  horizontal slabs that are read top to bottom. Each side is checked once more for a further
  split, so three columns usually work too.
* Safety net: if the layout-based text does not contain exactly the same words as
  PDFium's plain page text, or the page looks unsuitable (vertical/rotated text, thousands of
  separate text runs), PDFium's plain text in content-stream order is used instead, without
  paragraph detection.
* Words hyphenated across line ends are joined (PDFium marks those hyphens), whitespace runs
  are collapsed, ligatures such as "ﬁ" are expanded.

Limitations: paragraphs are only detected from extra vertical space, not from first-line
indentation; unequal columns whose gutter lies outside the middle 40 % of the text width,
and tables, are read in content-stream order; text in images needs OCR, which is not done
here (such PDFs are rejected with ``no_text``). PDFium is not thread-safe, so all PDFium
work in one process is serialised by a lock; the ingest service reads every document in a
child process of its own (``sandbox.py``), so documents never wait for each other's lock.
Memory stays bounded page by page: each page and its text page are closed before the next
is loaded, and only the extracted text is kept.

Plain text and Markdown are decoded as UTF-8 (byte-order mark removed, invalid bytes
replaced) and split into pages at form feeds (``\\f``).
"""

from __future__ import annotations

import bisect
import re
import statistics
import threading
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from contracts.rules import clean_text

PDF = "application/pdf"
TEXT_TYPES = ("text/plain", "text/markdown")

MIN_PAGE_TEXT = 10
"""A page "has text" with at least this many letters or digits; fewer are stray marks."""

_MAX_RECTS_PER_PAGE = 2000  # beyond this, layout analysis is too slow; use the plain text
_PDFIUM_LOCK = threading.Lock()

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


def parse_document(data: bytes, media_type: str, *, max_pages: int) -> list[Page]:
    """Extract the text of every page of a document of the given (detected) media type."""
    if media_type == PDF:
        pages = _parse_pdf(data, max_pages)
        if not any(_has_text(page.text) for page in pages):
            raise ParseError(
                "no_text",
                "This PDF has no text that can be selected: it looks like scanned images of "
                "pages without a text layer. Run it through OCR (text recognition) first, "
                "for example with your scanner software or Adobe Acrobat, and upload the "
                "result.",
            )
        return pages
    if media_type in TEXT_TYPES:
        return _parse_text(data, max_pages)
    raise ValueError(f"cannot parse media type {media_type!r}")


def _has_text(text: str) -> bool:
    return sum(ch.isalnum() for ch in text) >= MIN_PAGE_TEXT


def _too_many_pages(count: int, max_pages: int) -> ParseError:
    return ParseError(
        "too_many_pages",
        f"This document has {count} pages, but Simtune accepts at most {max_pages} pages per "
        "document. Split it into smaller files and upload them separately.",
    )


# ---- plain text and Markdown ---------------------------------------------------------------


def _parse_text(data: bytes, max_pages: int) -> list[Page]:
    text = data.decode("utf-8-sig", errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    chunks = text.split("\f")
    while len(chunks) > 1 and not chunks[-1].strip():
        chunks.pop()  # a trailing form feed does not start a real page
    if len(chunks) > max_pages:
        raise _too_many_pages(len(chunks), max_pages)
    pages = [Page(number, _tidy_text_file(chunk)) for number, chunk in enumerate(chunks, 1)]
    if not any(page.text for page in pages):
        raise ParseError("no_text", "This file contains no readable text.")
    return pages


def _tidy_text_file(text: str) -> str:
    """Trim line ends and runs of blank lines; keep indentation (it matters in Markdown)."""
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return clean_text(text).strip()


# ---- PDF -----------------------------------------------------------------------------------


def _parse_pdf(data: bytes, max_pages: int) -> list[Page]:
    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
                raise ParseError(
                    "encrypted",
                    "This PDF is protected with a password, so Simtune cannot read it. Save "
                    "a copy without the password (or ask its author for one) and upload "
                    "that instead.",
                ) from exc
            raise _corrupt() from exc
        try:
            count = len(document)
            if count < 1:
                raise _corrupt()
            if count > max_pages:
                raise _too_many_pages(count, max_pages)
            return [Page(index + 1, _read_page(document, index)) for index in range(count)]
        except pdfium.PdfiumError as exc:
            raise _corrupt() from exc
        finally:
            document.close()


def _corrupt() -> ParseError:
    return ParseError(
        "corrupt",
        "This PDF is damaged or incomplete and cannot be opened. Try opening it on your "
        "computer and saving or exporting it again as PDF, then upload the new file.",
    )


def _read_page(document: pdfium.PdfDocument, index: int) -> str:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            return _page_text(textpage)
        finally:
            textpage.close()
    finally:
        page.close()


class _Box(NamedTuple):
    """A rectangle in PDF units; y grows upwards."""

    left: float
    bottom: float
    right: float
    top: float

    @property
    def height(self) -> float:
        return self.top - self.bottom

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


def _page_text(textpage: pdfium.PdfTextPage) -> str:
    plain = textpage.get_text_bounded()
    count = textpage.count_rects()
    if 0 < count <= _MAX_RECTS_PER_PAGE:
        boxes = [_Box(*textpage.get_rect(i)) for i in range(count)]
        boxes = [box for box in boxes if box.width > 0 and box.height > 0]
        horizontal = sum(b.width for b in boxes) > sum(b.height for b in boxes)
        if boxes and horizontal:
            laid_out = "\n\n".join(
                text
                for region in _reading_regions(boxes)
                if (text := _region_text(textpage, region))
            )
            if _words(laid_out) == _words(plain):
                return _tidy_pdf_text(laid_out)
    return _tidy_pdf_text(plain)


def _words(text: str) -> Counter[str]:
    """The words of a page, ignoring spacing and line-end hyphenation (for the safety net)."""
    return Counter(_MARKED_HYPHEN.sub("", text).split())


# -- columns


def _reading_regions(boxes: list[_Box], depth: int = 0) -> list[list[_Box]]:
    """Split the text runs of a page into groups in reading order (column by column)."""
    split = _split_columns(boxes) if depth < 2 else None
    if split is None:
        return [boxes]
    left, right, spanning = split
    # Lines spanning the gutter cut the page into slabs; each slab is read left then right.
    bands: list[list[float]] = []  # merged [bottom, top] of spanning lines, top-down
    band_of = [0] * len(spanning)
    for i in sorted(range(len(spanning)), key=lambda i: -spanning[i].top):
        box = spanning[i]
        if bands and box.top >= bands[-1][0]:
            bands[-1][0] = min(bands[-1][0], box.bottom)
        else:
            bands.append([box.bottom, box.top])
        band_of[i] = len(bands) - 1

    # Slab i lies below i spanning bands; bucket each side's runs by slab, keeping their order.
    middles = sorted((bottom + top) / 2 for bottom, top in bands)
    slabs: list[tuple[list[_Box], list[_Box]]] = [([], []) for _ in range(len(bands) + 1)]
    for side, bucket in ((left, 0), (right, 1)):
        for box in side:
            above = len(middles) - bisect.bisect_right(middles, box.middle)
            slabs[above][bucket].append(box)

    # Spanning lines with no column text between them (a title and an abstract) are one region.
    regions: list[list[_Box]] = []
    spanning_run: list[_Box] = []
    for index, parts in enumerate(slabs):
        if any(parts):
            regions.append(spanning_run)
            spanning_run = []
            for part in parts:
                regions.extend(_reading_regions(part, depth + 1))
        if index < len(bands):
            spanning_run += [
                box for box, band in zip(spanning, band_of, strict=True) if band == index
            ]
    regions.append(spanning_run)
    return [region for region in regions if region]


def _split_columns(boxes: list[_Box]) -> tuple[list[_Box], list[_Box], list[_Box]] | None:
    """Find a clear gutter in the middle of the text; return (left, right, spanning) runs."""
    x0 = min(b.left for b in boxes)
    x1 = max(b.right for b in boxes)
    width = x1 - x0
    if not 100 <= width <= 15_000 or len(boxes) < 6:  # also rejects NaN from broken files
        return None
    # Ink coverage along x, in 1-point steps: each run adds its height over its width.
    steps = int(width) + 2
    delta = [0.0] * (steps + 1)
    for b in boxes:
        delta[int(b.left - x0)] += b.height
        delta[int(b.right - x0) + 1] -= b.height
    coverage = list(accumulate(delta))
    quiet = 0.15 * max(coverage)
    line_height = statistics.median(b.height for b in boxes)
    best_start, best_length, start = 0, 0, None
    for x in range(int(0.3 * width), int(0.7 * width) + 1):
        if coverage[x] <= quiet:
            start = x if start is None else start
            if x - start + 1 > best_length:
                best_start, best_length = start, x - start + 1
        else:
            start = None
    if best_length < max(3.0, 0.4 * line_height):
        return None
    gutter = x0 + best_start + best_length / 2
    left = [b for b in boxes if b.right <= gutter]
    right = [b for b in boxes if b.left >= gutter]
    spanning = [b for b in boxes if b.left < gutter < b.right]
    if not (_is_text_column(left) and _is_text_column(right)):
        return None
    left_top, left_bottom = max(b.top for b in left), min(b.bottom for b in left)
    right_top, right_bottom = max(b.top for b in right), min(b.bottom for b in right)
    side_by_side = min(left_top, right_top) - max(left_bottom, right_bottom)
    if side_by_side < 0.5 * min(left_top - left_bottom, right_top - right_bottom):
        return None
    return left, right, spanning


def _is_text_column(boxes: list[_Box]) -> bool:
    """At least three lines whose runs fill most of the column's width (not a sparse table)."""
    if len(boxes) < 3:
        return False
    column_width = max(b.right for b in boxes) - min(b.left for b in boxes)
    lines = _merge_intervals((b.bottom, b.top) for b in boxes)
    if len(lines) < 3 or column_width <= 0:
        return False
    inked_height = sum(top - bottom for bottom, top in lines)
    fill = sum(b.width * b.height for b in boxes) / (column_width * inked_height)
    return fill >= 0.6


def _merge_intervals(intervals) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return [(low, high) for low, high in merged]


# -- lines and paragraphs


def _same_line(a: _Box, b: _Box) -> bool:
    overlap = min(a.top, b.top) - max(a.bottom, b.bottom)
    return overlap >= 0.5 * min(a.height, b.height)


def _region_text(textpage: pdfium.PdfTextPage, boxes: list[_Box]) -> str:
    """Text of one column or slab, with a blank line between paragraphs.

    Runs on the same line are merged into line segments; consecutive segments separated by
    clearly more than the usual line gap (or by a jump back up the page) start a new
    paragraph. Each paragraph's text comes from one ``get_text_bounded`` call on the union of
    its segments, which keeps PDFium's own spacing and line breaks inside it.
    """
    segments: list[_Box] = []
    for box in boxes:  # content-stream order
        last = segments[-1] if segments else None
        if (
            last is not None
            and _same_line(last, box)
            and -0.5 * box.height <= box.left - last.right <= 1.0 * box.height
        ):
            segments[-1] = _union(last, box)
        else:
            segments.append(box)

    def moves_up(a: _Box, b: _Box) -> bool:
        return b.top > a.bottom + 0.5 * b.height

    pairs = list(zip(segments, segments[1:], strict=False))
    gaps = [a.bottom - b.top for a, b in pairs if not _same_line(a, b) and not moves_up(a, b)]
    line_height = statistics.median(s.height for s in segments)
    if len(gaps) >= 3:
        threshold = sorted(gaps)[len(gaps) // 4] + 0.6 * line_height
    else:
        threshold = 0.8 * line_height

    # A blank line before each segment that starts a paragraph, a newline or space otherwise.
    separators = ["\n\n"]
    for a, b in pairs:
        if _same_line(a, b):
            touching = abs(b.left - a.right) < 0.15 * min(a.height, b.height)
            separators.append("" if touching else " ")
        elif moves_up(a, b) or a.bottom - b.top > threshold:
            separators.append("\n\n")
        else:
            separators.append("\n")
    paragraphs: list[_Box] = []
    for segment, separator in zip(segments, separators, strict=True):
        if not paragraphs or separator == "\n\n":
            paragraphs.append(segment)
        else:
            paragraphs[-1] = _union(paragraphs[-1], segment)

    if not _any_overlap(paragraphs):
        texts = (_text_in(textpage, box) for box in paragraphs)
        return "\n\n".join(text for text in texts if text.strip())
    # Paragraph areas overlap (text drawn out of order): read line by line instead.
    parts: list[str] = []
    for segment, separator in zip(segments, separators, strict=True):
        text = _text_in(textpage, segment).replace("\r\n", " ").strip(" ")
        if text:
            parts += [separator, text] if parts else [text]
    return "".join(parts)


def _text_in(textpage: pdfium.PdfTextPage, box: _Box) -> str:
    # Shrunk a little sideways so that text touching the box from the left/right stays out.
    return textpage.get_text_bounded(box.left + 0.1, box.bottom, box.right - 0.1, box.top)


def _any_overlap(boxes: list[_Box]) -> bool:
    ordered = sorted(boxes, key=lambda box: -box.top)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.top - a.bottom <= 0.5:
                break  # b and all boxes after it lie below a
            if _overlap(a, b):
                return True
    return False


def _overlap(a: _Box, b: _Box) -> bool:
    return (
        min(a.right, b.right) - max(a.left, b.left) > 0.5
        and min(a.top, b.top) - max(a.bottom, b.bottom) > 0.5
    )


def _union(a: _Box, b: _Box) -> _Box:
    return _Box(
        min(a.left, b.left), min(a.bottom, b.bottom), max(a.right, b.right), max(a.top, b.top)
    )


# -- clean-up

_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
_MARKED_HYPHEN = re.compile(r"\x02\s*")  # PDFium's mark for a hyphen at a line end
_LINE_END_HYPHEN = re.compile(r"(\w)-\n(\w)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\xad\ufffe\uffff]")
_SPACES = re.compile(r"[^\S\n]+")


def _join_hyphenated(match: re.Match[str]) -> str:
    before, after = match.group(1), match.group(2)
    if before.isalpha() and after.islower():
        return before + after
    return match.group(0)


def _tidy_pdf_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_LIGATURES)
    text = _MARKED_HYPHEN.sub("", text)
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = re.sub(r" ?\n ?", "\n", text)
    text = _LINE_END_HYPHEN.sub(_join_hyphenated, text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return clean_text(text).strip()
