"""Factories for test documents: small real PDFs (built with fpdf2) and a PNG.

Text is drawn line by line with the Helvetica core font, so it must be latin-1. Paragraphs
(separated by a blank line) get a blank line of vertical space between them, like in a word
processor; lines are wrapped at about 85 characters.
"""

from __future__ import annotations

import io
import textwrap

from fpdf import FPDF
from PIL import Image, ImageDraw

_FONT_SIZE = 10  # points
_LINE = 5.0  # line pitch in mm
_TOP = 20.0  # baseline of the first line, mm from the top
_BOTTOM = 285.0  # last usable baseline, mm from the top (A4 is 297 mm high)
_WRAP = 85  # characters per line on a full-width page


def _new_pdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=_FONT_SIZE)
    return pdf


def _wrap(text: str, width: int) -> list[str]:
    """Lines to draw for `text`: paragraphs wrapped to `width`, a "" line between them."""
    lines: list[str] = []
    for number, paragraph in enumerate(text.split("\n\n")):
        if number:
            lines.append("")
        for source_line in paragraph.split("\n"):
            lines.extend(textwrap.wrap(source_line, width, break_on_hyphens=False) or [""])
    return lines


def _draw(pdf: FPDF, lines: list[str], x: float) -> None:
    y = _TOP
    for line in lines:
        if y > _BOTTOM:
            raise ValueError("text does not fit on one page; split it over more pages")
        if line:
            pdf.text(x, y, line)
        y += _LINE


def make_pdf(pages: list[str]) -> bytes:
    """A text PDF with one page per string (wrapped, multi-line, Helvetica 10 pt)."""
    pdf = _new_pdf()
    for text in pages:
        pdf.add_page()
        _draw(pdf, _wrap(text, _WRAP), x=15)
    return bytes(pdf.output())


def make_two_column_pdf(left: str, right: str) -> bytes:
    """One page with two text columns.

    The lines are drawn row by row (left line 1, right line 1, left line 2 ...), so a reader
    that follows the drawing order instead of the layout interleaves the two columns.
    """
    pdf = _new_pdf()
    pdf.add_page()
    left_lines, right_lines = _wrap(left, 40), _wrap(right, 40)
    y = _TOP
    for row in range(max(len(left_lines), len(right_lines))):
        if y > _BOTTOM:
            raise ValueError("columns do not fit on one page")
        for x, lines in ((15, left_lines), (110, right_lines)):
            if row < len(lines) and lines[row]:
                pdf.text(x, y, lines[row])
        y += _LINE
    return bytes(pdf.output())


def make_encrypted_pdf(text: str) -> bytes:
    """A text PDF that needs the user password "open-sesame" to be opened."""
    pdf = _new_pdf()
    pdf.set_encryption(owner_password="owner-secret", user_password="open-sesame")
    pdf.add_page()
    _draw(pdf, _wrap(text, _WRAP), x=15)
    return bytes(pdf.output())


def make_owner_protected_pdf(text: str) -> bytes:
    """A text PDF with only an owner password (restricts editing, opens without one)."""
    pdf = _new_pdf()
    pdf.set_encryption(owner_password="owner-secret")
    pdf.add_page()
    _draw(pdf, _wrap(text, _WRAP), x=15)
    return bytes(pdf.output())


def _scan_image(page_number: int) -> Image.Image:
    """A grey page with dark bars where lines of text would be, like a scan."""
    image = Image.new("L", (620, 877), color=235)
    draw = ImageDraw.Draw(image)
    for row in range(30):
        top = 60 + row * 25
        draw.rectangle((50, top, 570 - (row * 37 + page_number * 53) % 200, top + 9), fill=40)
    return image


def make_image_only_pdf(pages: int = 2) -> bytes:
    """A scanned-looking PDF: every page is one image plus a drawn frame, and no text."""
    pdf = _new_pdf()
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.image(_scan_image(number), x=0, y=0, w=210, h=297)
        pdf.set_draw_color(0, 0, 0)
        pdf.rect(10, 10, 190, 277)
    return bytes(pdf.output())


def make_corrupt_pdf() -> bytes:
    """A PDF header followed by the first half of a real PDF and then garbage."""
    real = make_pdf(["This document was cut short and scrambled."])
    return real[: len(real) // 2] + bytes(range(256)) * 4


def make_png() -> bytes:
    """A small, valid PNG image."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), color=(200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()
