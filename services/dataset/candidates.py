"""A candidate example: what a source (knowledge, traces, feedback, manual) proposes before the
data rules screen it and the split places it.

Candidates are plain frozen dataclasses rather than contracts: they never travel or get
stored; `split.assign` turns the survivors into `TrainingExample`s, the stored schema.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from contracts.answers import Citation
from contracts.dataset import Provenance, Source

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
