"""Lines and paragraphs of one column or slab of a PDF page: runs on the same line are merged
into line segments, and consecutive lines whose vertical gap is clearly larger than the usual
line spacing of that column (or that jump back up the page) start a new paragraph. Each
paragraph's text is extracted with one ``get_text_bounded`` call on its area, keeping
PDFium's spacing and line breaks; if paragraph areas overlap (text drawn out of order), the
text is extracted line by line instead."""

from __future__ import annotations

import statistics

import pypdfium2 as pdfium

from services.ingest.parsing.boxes import Box, any_overlap, same_line, union


def region_text(textpage: pdfium.PdfTextPage, boxes: list[Box]) -> str:
    """Text of one column or slab, with a blank line between paragraphs.

    Runs on the same line are merged into line segments; consecutive segments separated by
    clearly more than the usual line gap (or by a jump back up the page) start a new
    paragraph. Each paragraph's text comes from one ``get_text_bounded`` call on the union of
    its segments, which keeps PDFium's own spacing and line breaks inside it.
    """
    segments: list[Box] = []
    for box in boxes:  # content-stream order
        last = segments[-1] if segments else None
        if (
            last is not None
            and same_line(last, box)
            and -0.5 * box.height <= box.left - last.right <= 1.0 * box.height
        ):
            segments[-1] = union(last, box)
        else:
            segments.append(box)

    def moves_up(a: Box, b: Box) -> bool:
        return b.top > a.bottom + 0.5 * b.height

    pairs = list(zip(segments, segments[1:], strict=False))
    gaps = [a.bottom - b.top for a, b in pairs if not same_line(a, b) and not moves_up(a, b)]
    line_height = statistics.median(s.height for s in segments)
    if len(gaps) >= 3:
        threshold = sorted(gaps)[len(gaps) // 4] + 0.6 * line_height
    else:
        threshold = 0.8 * line_height

    # A blank line before each segment that starts a paragraph, a newline or space otherwise.
    separators = ["\n\n"]
    for a, b in pairs:
        if same_line(a, b):
            touching = abs(b.left - a.right) < 0.15 * min(a.height, b.height)
            separators.append("" if touching else " ")
        elif moves_up(a, b) or a.bottom - b.top > threshold:
            separators.append("\n\n")
        else:
            separators.append("\n")
    paragraphs: list[Box] = []
    for segment, separator in zip(segments, separators, strict=True):
        if not paragraphs or separator == "\n\n":
            paragraphs.append(segment)
        else:
            paragraphs[-1] = union(paragraphs[-1], segment)

    if not any_overlap(paragraphs):
        texts = (text_in(textpage, box) for box in paragraphs)
        return "\n\n".join(text for text in texts if text.strip())
    # Paragraph areas overlap (text drawn out of order): read line by line instead.
    parts: list[str] = []
    for segment, separator in zip(segments, separators, strict=True):
        text = text_in(textpage, segment).replace("\r\n", " ").strip(" ")
        if text:
            parts += [separator, text] if parts else [text]
    return "".join(parts)


def text_in(textpage: pdfium.PdfTextPage, box: Box) -> str:
    # Shrunk a little sideways so that text touching the box from the left/right stays out.
    return textpage.get_text_bounded(box.left + 0.1, box.bottom, box.right - 0.1, box.top)
