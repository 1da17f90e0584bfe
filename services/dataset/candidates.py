"""A candidate example: what a source (knowledge, traces, feedback, manual) proposes before the
data rules screen it and the split places it; and the candidates each source's material makes
(a passage's question and answer, a person's example, an answer from the traces).

Candidates are plain frozen dataclasses rather than contracts: they never travel or get
stored; `split.assign` turns the survivors into `TrainingExample`s, the stored schema.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from contracts.answers import Citation, TraceView
from contracts.dataset import BuildSpec, ManualExample, Provenance, Source, TracesSource
from contracts.prompting import RAG_RULES, models_words, sources_message

ID_LENGTH = 16


@dataclass(frozen=True)
class Candidate:
    source: Source
    question: str
    answer: str
    system: str
    group: str  # the passage's chunk_id or the answer id: a group never straddles the split
    provenance: Provenance
    citations: list[Citation] = field(default_factory=list)
    score: float | None = None
    rejected: str | None = None  # preference pairs: the original answer a person replaced
    tags: list[str] = field(default_factory=list)


def example_id(candidate: Candidate) -> str:
    """A stable id: the first 16 hex digits of sha256 over source, question and answer.

    The same example built twice gets the same id; an edited question or answer is a new
    example with a new id. The fields are joined with NUL, which no text field may hold, so
    moving words between question and answer cannot collide.
    """
    key = "\0".join((candidate.source, candidate.question, candidate.answer))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:ID_LENGTH]


def passage_field(passage: Any, name: str) -> Any:
    """A field of a passage given as a mapping or as an object."""
    return passage[name] if isinstance(passage, Mapping) else getattr(passage, name)


def manual_candidate(example: ManualExample, system: str, group: str) -> Candidate:
    """A person's own question and answer."""
    return Candidate(
        source="manual",
        question=example.question,
        answer=example.answer,
        system=system,
        group=group,
        provenance=Provenance(),
        tags=list(example.tags),
    )


def manual_candidates(spec: BuildSpec, system: str) -> list[Candidate]:
    return [manual_candidate(m, system, f"manual-{n}") for n, m in enumerate(spec.sources.manual)]


def traces_candidates(traces: list[TraceView], spec: TracesSource, system: str) -> list[Candidate]:
    """Answers good enough to learn from: scored at least `min_quality`, or rated at least
    `min_rating` (a person's edit, when there is one, is the answer)."""
    found = []
    for t in traces:
        score = t.score.score if t.score else None
        rating = t.feedback.rating if t.feedback else None
        good = (score is not None and score >= spec.min_quality) or (
            rating is not None and rating >= spec.min_rating
        )
        if not good or t.refused:
            continue
        edited = t.feedback.edited_answer if t.feedback else None
        found.append(answer_candidate(t, "traces", edited or models_words(t.answer), system, score))
    return found


def feedback_candidates(traces: list[TraceView], system: str) -> list[Candidate]:
    """Every answer a person edited: the edit is the target, the original the rejected side
    of a preference pair."""
    found = []
    for t in traces:
        edited = t.feedback.edited_answer if t.feedback else None
        if edited and edited.strip() != t.answer.strip():
            score = t.score.score if t.score else None
            candidate = answer_candidate(t, "feedback", edited, system, score)
            found.append(replace(candidate, rejected=models_words(t.answer)))
    return found


def answer_candidate(
    t: TraceView, source: str, answer: str, system: str, score: float | None
) -> Candidate:
    """An answer the expert gave (or a person's edit of it), citing what it cited first. An
    answer from passages is asked with them, numbered as its prompt numbered them, so its
    `[n]` point at something (the RAFT shape of the knowledge examples, `raft.py`); a lead of
    quotes from the documents is not the model's and is left out (`models_words`)."""
    first = t.citations[0] if t.citations else None
    given = bool(t.sources)
    return Candidate(
        source=source,
        question=sources_message(t.sources, t.question) if given else t.question,
        answer=models_words(answer),
        system=(f"{system}\n\n{RAG_RULES}" if system.strip() else RAG_RULES) if given else system,
        group=t.answer_id,
        provenance=Provenance(
            answer_id=t.answer_id,
            document_id=first.document_id if first else None,
            filename=first.filename if first else None,
            page=first.page if first else None,
            chunk_id=first.chunk_id if first else None,
        ),
        citations=list(t.citations),
        score=score,
        tags=[t.mode],
    )
