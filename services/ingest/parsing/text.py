"""Plain text and Markdown: decoded as UTF-8 (byte-order mark removed, invalid bytes
replaced) and split into pages at form feeds (``\\f``)."""

from __future__ import annotations

import re

from contracts.rules import clean_text
from services.ingest.parsing.pages import Page, ParseError, too_many_pages

TEXT_TYPES = ("text/plain", "text/markdown")


def parse_text(data: bytes, max_pages: int) -> list[Page]:
    text = data.decode("utf-8-sig", errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    chunks = text.split("\f")
    while len(chunks) > 1 and not chunks[-1].strip():
        chunks.pop()  # a trailing form feed does not start a real page
    if len(chunks) > max_pages:
        raise too_many_pages(len(chunks), max_pages)
    pages = [Page(number, tidy_text_file(chunk)) for number, chunk in enumerate(chunks, 1)]
    if not any(page.text for page in pages):
        raise ParseError("no_text", "This file contains no readable text.")
    return pages


def tidy_text_file(text: str) -> str:
    """Trim line ends and runs of blank lines; keep indentation (it matters in Markdown)."""
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return clean_text(text).strip()
