"""Knowledge questions: was the answer drawn from the right place in the expert's documents?

A question generated from a document knows the page that answers it. An expert that cites
that page found the evidence; citing the right document but another page is half right (the
retrieval got close); any other citation, or none, earns nothing here. The text still counts
most, since a right answer from the wrong page is still a right answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.benchmark.scoring.text import Scored

TEXT_WEIGHT = 0.7
CITATION_WEIGHT = 0.3

Citation = tuple[str, int | None]  # (document id, page); page None when the source has none


def _pages(pages: Sequence[int]) -> str:
    listed = ", ".join(str(p) for p in sorted(set(pages)))
    return f"page {listed}" if len(set(pages)) == 1 else f"pages {listed}"


def score_citations(cited: Sequence[Citation], expected: Citation) -> tuple[float, str]:
    """1.0 for a citation of the right document and page, 0.5 for the right document on
    another page, 0.0 otherwise; the reason names what was cited and where the answer is."""
    document, page = expected
    where = f"page {page} of document {document}" if page is not None else f"document {document}"
    if not cited:
        return 0.0, f"the answer cites no source; the answer is on {where}"
    on_document = [p for d, p in cited if d == document]
    if not on_document:
        return 0.0, f"the answer cites other documents only; the answer is on {where}"
    if page is None:
        return 1.0, "cited the right document"
    if page in on_document:
        return 1.0, f"cited page {page} of the right document, where the answer is"
    numbered = [p for p in on_document if p is not None]
    if not numbered:
        return 0.5, f"cited the right document without a page; the answer is on page {page}"
    return 0.5, f"cited {_pages(numbered)} of the right document; the answer is on page {page}"


def score_knowledge(text: Scored, cited: Sequence[Citation], expected: Citation) -> Scored:
    """The answer's text score (0.7) blended with its citation score (0.3)."""
    text_score, parts, reasons = text
    citation, reason = score_citations(cited, expected)
    return (
        TEXT_WEIGHT * text_score + CITATION_WEIGHT * citation,
        {**parts, "text": text_score, "citation": citation},
        [*reasons, reason],
    )
