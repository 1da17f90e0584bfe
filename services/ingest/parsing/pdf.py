"""PDF text through PDFium (``pypdfium2``), one page at a time. Per page:

* PDFium's text rectangles (one per run of text) are read in content-stream order and put in
  reading order: columns first (``columns``), then lines and paragraphs (``paragraphs``).
  Paragraphs are separated by ``"\\n\\n"``, lines inside them by ``"\\n"``.
* Safety net: if the layout-based text does not contain exactly the same words as
  PDFium's plain page text, or the page looks unsuitable (vertical/rotated text, thousands of
  separate text runs), PDFium's plain text in content-stream order is used instead, without
  paragraph detection.
* The text is tidied (``tidy``): hyphenated words joined, whitespace collapsed, ligatures
  expanded.

Limitations: paragraphs are only detected from extra vertical space, not from first-line
indentation; unequal columns whose gutter lies outside the middle 40 % of the text width,
and tables, are read in content-stream order; text in images needs OCR, which is not done
here (such PDFs are rejected with ``no_text``). PDFium is not thread-safe, so all PDFium
work in one process is serialised by a lock; the ingest service reads every document in a
child process of its own (``sandbox.py``), so documents never wait for each other's lock.
Memory stays bounded page by page: each page and its text page are closed before the next
is loaded, and only the extracted text is kept.
"""

from __future__ import annotations

import threading
from collections import Counter

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from services.ingest.parsing.boxes import Box
from services.ingest.parsing.columns import reading_regions
from services.ingest.parsing.pages import Page, ParseError, too_many_pages
from services.ingest.parsing.paragraphs import region_text
from services.ingest.parsing.tidy import MARKED_HYPHEN, tidy_pdf_text

PDF = "application/pdf"

_MAX_RECTS_PER_PAGE = 2000  # beyond this, layout analysis is too slow; use the plain text
_PDFIUM_LOCK = threading.Lock()


def parse_pdf(data: bytes, max_pages: int) -> list[Page]:
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
                raise too_many_pages(count, max_pages)
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
            return page_text(textpage)
        finally:
            textpage.close()
    finally:
        page.close()


def page_text(textpage: pdfium.PdfTextPage) -> str:
    """The page's text in reading order, or PDFium's plain text where the layout is unsure."""
    plain = textpage.get_text_bounded()
    count = textpage.count_rects()
    if 0 < count <= _MAX_RECTS_PER_PAGE:
        boxes = [Box(*textpage.get_rect(i)) for i in range(count)]
        boxes = [box for box in boxes if box.width > 0 and box.height > 0]
        horizontal = sum(b.width for b in boxes) > sum(b.height for b in boxes)
        if boxes and horizontal:
            laid_out = "\n\n".join(
                text for region in reading_regions(boxes) if (text := region_text(textpage, region))
            )
            if _words(laid_out) == _words(plain):
                return tidy_pdf_text(laid_out)
    return tidy_pdf_text(plain)


def _words(text: str) -> Counter[str]:
    """The words of a page, ignoring spacing and line-end hyphenation (for the safety net)."""
    return Counter(MARKED_HYPHEN.sub("", text).split())
