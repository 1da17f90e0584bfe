"""Which examples train the model and which are held out to validate it.

A hash of (seed, group) decides each side, so:

- the same seed gives the same split, and another seed a different one;
- a group (a passage, an answer) is never on both sides: its examples share a group, so a
  question about a passage is never validated with another question about the same text;
- an edited or added example lands on its group's side without moving any other example.

The hash maps a group to a fraction in [0, 1); groups below `val_share` validate. With
at least two groups both sides get one: if the hash puts every group on one side, the group
nearest the boundary crosses it (the lowest fraction when all train, the highest when all
validate). Only this rescue depends on which other groups exist.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from contracts.dataset import Counts, Message, TrainingExample
from services.dataset.candidates import Candidate, example_id

Side = Literal["train", "val"]
VAL_SHARE = 0.1


def fraction(group: str, seed: int) -> float:
    """Where the group falls in [0, 1) for this seed."""
    digest = hashlib.sha256(f"{seed}\0{group}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def side(group: str, seed: int, val_share: float = VAL_SHARE) -> Side:
    return "val" if fraction(group, seed) < val_share else "train"


def sides(groups: set[str], seed: int, val_share: float = VAL_SHARE) -> dict[str, Side]:
    """Each group's side, with both sides filled when there are at least two groups."""
    placed = {group: side(group, seed, val_share) for group in groups}
    if len(placed) >= 2 and len(set(placed.values())) == 1:
        ranked = sorted(placed, key=lambda g: (fraction(g, seed), g))
        if placed[ranked[0]] == "train":
            placed[ranked[0]] = "val"
        else:
            placed[ranked[-1]] = "train"
    return placed


def assign(
    candidates: list[Candidate], seed: int, val_share: float = VAL_SHARE
) -> list[TrainingExample]:
    """The candidates as training examples, in the same order, each on its group's side."""
    placed = sides({c.group for c in candidates}, seed, val_share)
    return [example(c, placed[c.group]) for c in candidates]


def example(candidate: Candidate, split: Side = "train") -> TrainingExample:
    """A candidate in the stored schema: system (when there is one), user, assistant."""
    messages = [Message(role="system", content=candidate.system)] if candidate.system else []
    messages += [
        Message(role="user", content=candidate.question),
        Message(role="assistant", content=candidate.answer),
    ]
    return TrainingExample(
        id=example_id(candidate),
        messages=messages,
        source=candidate.source,
        tags=list(candidate.tags),
        provenance=candidate.provenance,
        citations=list(candidate.citations),
        score=candidate.score,
        rejected=candidate.rejected,
        split=split,
    )


def counts_of(examples, rejected: dict[str, int]) -> Counts:
    """A version's counts: its examples per split and source, and the candidates left out
    by reason (`rejected`)."""
    by_source: dict[str, int] = {}
    for e in examples:
        by_source[e.source] = by_source.get(e.source, 0) + 1
    return Counts(
        train=sum(1 for e in examples if e.split == "train"),
        val=sum(1 for e in examples if e.split == "val"),
        by_source=by_source,
        rejected=rejected,
    )
