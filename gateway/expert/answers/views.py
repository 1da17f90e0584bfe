"""How the console shows answers: the three modes in plain words, an answer's text cut into
plain pieces and citation links (`[n]` opens the cited document at its page), its claims
(quotes from the documents first, then each sentence of the model's with its pages, or set
apart as not found in the sources), a trace's time, and whether the small bundled model is
the one answering.

Pure functions over the contracts' views; the templates only loop over what they return.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from contracts.answers import Citation, Claim, TraceView
from gateway.http.pages import when

MARKER = re.compile(r"\[(\d{1,2})\]")
BUNDLED_LABEL = "the bundled SmolLM2"


@dataclass(frozen=True)
class Mode:
    value: str
    label: str
    explains: str


MODES = (
    Mode("rag", "From my documents", "Looks up passages in your documents and cites them."),
    Mode("closed", "Closed book", "Answers from what the model already knows, without documents."),
    Mode(
        "prompt_tuned",
        "Prompt-tuned",
        "Follows the example of its best-rated earlier answers.",
    ),
)
MODE_LABELS = {mode.value: mode.label for mode in MODES}


@dataclass(frozen=True)
class Part:
    """A piece of an answer: plain text, or a citation marker linking to its source."""

    text: str
    citation: Citation | None = None

    @property
    def href(self) -> str:
        return document_href(self.citation) if self.citation else ""


SUPPORT_NOTES = {
    "unsupported": "not found in the sources",
    "unchecked": "not checked against the sources",
}


@dataclass(frozen=True)
class ClaimShown:
    """One sentence of an answer, with links to the pages that support it, or a note that
    none does (an unsupported sentence is set apart, never shown as supported)."""

    text: str
    support: str
    links: list[Part]

    @property
    def note(self) -> str:
        return SUPPORT_NOTES.get(self.support, "")

    @property
    def is_code(self) -> bool:
        return self.text.startswith("```")


@dataclass(frozen=True)
class Shown:
    """A trace as a page shows it: the answer (and the person's edit) in parts, and, for an
    answer with claims, its quotes from the documents and its own sentences one by one."""

    trace: TraceView
    parts: list[Part]
    edited_parts: list[Part] | None
    quotes: list[ClaimShown] = field(default_factory=list)
    said: list[ClaimShown] = field(default_factory=list)

    @property
    def when(self) -> str:
        return when(self.trace.created_at)

    @property
    def kind_label(self) -> str:
        if self.trace.kind == "draft":
            return "Draft"
        return MODE_LABELS.get(self.trace.mode, self.trace.mode)

    @property
    def why(self) -> str:
        """The scorer's reasons in one line (a row's tooltip)."""
        score = self.trace.score
        return " ".join(score.reasons) if score else "Not scored yet."


def document_href(citation: Citation) -> str:
    """The document's file opened at the cited page (as the search results link it)."""
    return f"/api/documents/{citation.document_id}/file#page={citation.page}"


def cited_parts(text: str, citations: list[Citation]) -> list[Part]:
    """`text` with each `[n]` that names a citation turned into a link to it."""
    by_n = {c.n: c for c in citations}
    parts, start = [], 0
    for match in MARKER.finditer(text):
        citation = by_n.get(int(match.group(1)))
        if citation is None:
            continue
        if match.start() > start:
            parts.append(Part(text[start : match.start()]))
        parts.append(Part(match.group(0), citation))
        start = match.end()
    if start < len(text):
        parts.append(Part(text[start:]))
    return parts


def claim_shown(claim: Claim, citations: list[Citation]) -> ClaimShown:
    by_n = {c.n: c for c in citations}
    links = [Part(f"[{n}]", by_n[n]) for n in claim.citations if n in by_n]
    return ClaimShown(claim.text, claim.support, links)


def shown(trace: TraceView) -> Shown:
    edited = trace.feedback.edited_answer if trace.feedback else None
    claims = [claim_shown(c, trace.citations) for c in trace.claims]
    return Shown(
        trace=trace,
        parts=cited_parts(trace.answer, trace.citations),
        edited_parts=cited_parts(edited, trace.citations) if edited else None,
        quotes=[s for s, c in zip(claims, trace.claims, strict=True) if c.origin == "documents"],
        said=[s for s, c in zip(claims, trace.claims, strict=True) if c.origin == "model"],
    )


def is_bundled(label: str) -> bool:
    """Is the small model that ships with Simtune answering (fine to try, weak for real use)?"""
    return label.startswith(BUNDLED_LABEL)
