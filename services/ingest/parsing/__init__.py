"""Page-by-page text extraction from PDF, plain-text and Markdown documents.

:func:`parse_document` returns one :class:`Page` per physical page (1-based, pages without
text included with ``text == ""``) or raises :class:`ParseError`, whose ``code`` is one of
``encrypted``, ``corrupt``, ``no_text``, ``too_many_pages`` and whose ``reason`` can be shown
to a non-technical person as is.

By concern:

* ``pages``: what parsing gives (:class:`Page`, :class:`ParseError`) and the checks every
  format shares.
* ``text``: plain text and Markdown, decoded as UTF-8 (byte-order mark removed, invalid bytes
  replaced) and split into pages at form feeds (``\\f``).
* ``pdf``: PDF through PDFium (``pypdfium2``), page by page, with a safety net.
* ``boxes``, ``columns``, ``paragraphs``: the layout geometry that puts a PDF page's text
  runs in reading order (columns, then lines and paragraphs).
* ``tidy``: the clean-up of PDF text (hyphens, ligatures, whitespace).
"""

from __future__ import annotations

from services.ingest.parsing.pages import Page, ParseError, has_text
from services.ingest.parsing.pdf import PDF, parse_pdf
from services.ingest.parsing.text import TEXT_TYPES, parse_text

__all__ = ["PDF", "TEXT_TYPES", "Page", "ParseError", "parse_document"]


def parse_document(data: bytes, media_type: str, *, max_pages: int) -> list[Page]:
    """Extract the text of every page of a document of the given (detected) media type."""
    if media_type == PDF:
        pages = parse_pdf(data, max_pages)
        if not any(has_text(page.text) for page in pages):
            raise ParseError(
                "no_text",
                "This PDF has no text that can be selected: it looks like scanned images of "
                "pages without a text layer. Run it through OCR (text recognition) first, "
                "for example with your scanner software or Adobe Acrobat, and upload the "
                "result.",
            )
        return pages
    if media_type in TEXT_TYPES:
        return parse_text(data, max_pages)
    raise ValueError(f"cannot parse media type {media_type!r}")
