"""Reading the built-in bank and choosing which of a set's questions a run asks.

A run of n questions asks the same share of every domain, so a quick run (10 questions) still
covers all five domains (two each) and its per-domain scores mean something. Which questions
of a domain are asked depends only on the seed and the question ids (a hash, like the dataset
split), never on Python's random module or on list order: the same seed picks the same
questions on every machine and in every release, so two runs with one seed compare like with
like. `BANK_VERSION` changes whenever a question is added, removed or reworded, because scores
on different banks do not compare.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from functools import cache
from importlib.resources import files

import msgspec

from contracts.benchmark import Question

BANK_VERSION = 1
_DECODER = msgspec.json.Decoder(Question)


@cache
def _bank() -> tuple[Question, ...]:
    text = (files(__package__) / "builtin.jsonl").read_text(encoding="utf-8")
    return tuple(_DECODER.decode(line) for line in text.splitlines() if line.strip())


def builtin() -> list[Question]:
    """The built-in questions in bank order (decoded and validated once, then cached)."""
    return list(_bank())


def _rank(seed: int | str, key: str) -> bytes:
    return hashlib.sha256(f"{seed}\0{key}".encode()).digest()


def pick(questions: list[Question], n: int, seed: int | str = 0) -> list[Question]:
    """n of the questions, spread evenly over their domains, in the questions' own order.

    Domains take turns, one question each, until n are chosen; within a domain the seed's
    hash order decides, and when n is not a multiple of the number of domains the seed also
    decides which domains give one more. A domain that runs out leaves its turns to the rest,
    and n at or above the number of questions returns them all.
    """
    by_domain: dict[str, list[int]] = defaultdict(list)
    for index, question in enumerate(questions):
        by_domain[question.domain].append(index)
    queues = [
        sorted(group, key=lambda i: _rank(seed, questions[i].id))
        for _, group in sorted(by_domain.items(), key=lambda item: _rank(seed, item[0]))
    ]
    chosen: set[int] = set()
    while len(chosen) < min(n, len(questions)):
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.add(queue.pop(0))
    return [q for i, q in enumerate(questions) if i in chosen]
