"""Knowledge questions: was the answer drawn from the right place in the expert's documents,
and does it say only what its sources support?

Citation. A question generated from a document knows the page that answers it. An expert that
cites that page (the document and the page) found the evidence and earns the citation's part;
citing only other pages — of another document or of the right one — or nothing earns none of
it: a neighbouring page is not the evidence, and a person who follows the citation does not
find the answer there. A source without pages (page None) is matched on the document alone.

Groundedness. The expert checks each sentence of its answer against the passages it was given
(attribution after generation) and reports it as a claim: supported, unsupported, or not a
claim (a lead-in, a refusal). Groundedness is supported / (supported + unsupported) among the
model's own sentences. When the reply carries no judged claims (an older expert, a closed-book
answer, claims it could not check) it is not measured and the knowledge score is what it was
before: text 0.7, citation 0.3.

The text still counts most, since a right answer from the wrong page is still a right answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from services.benchmark.scoring.text import Scored

TEXT_WEIGHT, CITATION_WEIGHT = 0.7, 0.3
# With groundedness measured: text 0.6, citation 0.2, groundedness 0.2.
GROUNDED_WEIGHTS = (0.6, 0.2, 0.2)

Citation = tuple[str, int | None]  # (document id, page); page None when the source has none


class Grounded(NamedTuple):
    """How many of an answer's claims its passages support, of those judged."""

    supported: int
    unsupported: int

    @property
    def share(self) -> float:
        return self.supported / (self.supported + self.unsupported)


def grounded(claims: Iterable) -> Grounded | None:
    """Count the model's own claims (`contracts.answers.Claim`, origin "model": a sentence
    quoted from a passage supports itself) by their `support`, as the expert's own trace
    score does; None when groundedness is not measured — no claim judged (no claims, or only
    sentences that claim nothing), or one the expert could not check ("unchecked")."""
    supports = [c.support for c in claims if c.origin == "model"]
    if "unchecked" in supports:
        return None
    counted = Grounded(supports.count("supported"), supports.count("unsupported"))
    return counted if counted.supported + counted.unsupported else None


def _pages(pages: Sequence[int]) -> str:
    listed = ", ".join(str(p) for p in sorted(set(pages)))
    return f"page {listed}" if len(set(pages)) == 1 else f"pages {listed}"


def score_citations(cited: Sequence[Citation], expected: Citation) -> tuple[float, str]:
    """1.0 for a citation of the right document and page, 0.0 otherwise; the reason names
    what was cited and where the answer is."""
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
        return 0.0, f"cited the right document without a page; the answer is on page {page}"
    return 0.0, f"cited {_pages(numbered)} of the right document; the answer is on page {page}"


def score_knowledge(
    text: Scored, cited: Sequence[Citation], expected: Citation | None, claims: Grounded | None
) -> Scored:
    """The answer's text score blended with its citation score (when the question knows its
    page) and its groundedness (when its claims were judged); see the module's docstring."""
    text_score, parts, reasons = text
    parts, reasons = {**parts, "text": text_score}, list(reasons)
    measures = [(text_score, TEXT_WEIGHT)]
    if expected is not None:
        citation, reason = score_citations(cited, expected)
        parts["citation"] = citation
        reasons.append(reason)
        measures.append((citation, CITATION_WEIGHT))
    if claims is not None:
        share = claims.share
        parts.update(groundedness=share, claims_supported=float(claims.supported),
                     claims_unsupported=float(claims.unsupported))  # fmt: skip
        judged = claims.supported + claims.unsupported
        reasons.append(f"groundedness {share:.2f}: {claims.supported} of the answer's {judged}"
                       " claims are supported by the passages it was given")  # fmt: skip
        text_w, citation_w, grounded_w = GROUNDED_WEIGHTS
        weights = [text_w, citation_w][: len(measures)]
        measures = [(value, w) for (value, _), w in zip(measures, weights, strict=True)]
        measures.append((share, grounded_w))
    total = sum(w for _, w in measures)
    return sum(value * w for value, w in measures) / total, parts, reasons
