"""The data rules: which candidates become training examples, and why the others do not.

Every rejection carries a reason code and a sentence a person understands. The rules run in
this order, and a candidate is rejected by the first one it breaks:

- `empty`: the question or the answer is blank.
- `too_long`: the example does not fit the model. It is measured as training sees it: the
  system prompt (when there is one), the question and the answer, each message costing its
  tokens plus `MESSAGE_OVERHEAD` for the chat template's role markers (ChatML adds about
  four). A text longer than the stored schema holds (`MAX_TEXT` characters) is too long too.
- `banned_topic`: the question or answer mentions a topic the owner banned: whole words or
  phrases, any case, any spacing between the words, the last word singular or plural
  ("policy" matches "Policies", not "policyholder").
- `duplicate`: the same question as an example already kept (the question alone, not the
  sources an example from the documents shows with it), compared after normalizing
  (Unicode NFKC, case folded, punctuation and whitespace runs collapsed to one space). Input
  order is the caller's priority (manual, feedback, traces, knowledge), so the first wins.
  Only kept examples count: a duplicate of a rejected candidate may still be kept.
- `over_cap`: more survivors than `max_examples`. Sources take turns, in the order they
  first appear in the input, each giving its next candidate in a seeded order (sorted by a
  hash of the seed and the candidate's id) until the cap is reached. So a small source is
  kept whole, large sources share what is left evenly, the same seed keeps the same
  examples, and adding a candidate does not reshuffle the others.

Kept candidates stay in input order; rejections follow input order per rule pass.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import deque
from collections.abc import Callable

from contracts.dataset import Rejection
from contracts.prompting import question_in
from runtime.phrases import phrase_pattern
from services.dataset.candidates import Candidate, example_id

Count = Callable[[str], int]

MESSAGE_OVERHEAD = 4
MAX_TEXT = 20_000
MAX_QUESTION = 300

_NOT_WORD = re.compile(r"[\W_]+")
_SPACE = re.compile(r"\s+")


def screen(
    candidates: list[Candidate],
    *,
    count: Count,
    max_seq_tokens: int,
    banned_topics: list[str],
    max_examples: int,
    seed: int,
) -> tuple[list[Candidate], list[Rejection]]:
    """The candidates that become examples, and a rejection for each of the others."""
    banned = [(topic, phrase_pattern(topic)) for topic in banned_topics if topic.split()]
    kept: list[Candidate] = []
    rejections: list[Rejection] = []
    seen: set[str] = set()
    for candidate in candidates:
        code, detail = _first_broken_rule(candidate, count, max_seq_tokens, banned)
        if code is None:
            prompt = prompt_key(question_in(candidate.question))
            if prompt in seen:
                code, detail = "duplicate", "The same question is already in the dataset."
            else:
                seen.add(prompt)
                kept.append(candidate)
                continue
        rejections.append(rejection(candidate, code, detail))
    capped = _cap(kept, max_examples, seed)
    over = (
        f"The dataset is capped at {max_examples:,} examples; this one was left out so that "
        "every source keeps its share."
    )
    rejections += [rejection(c, "over_cap", over) for p, c in enumerate(kept) if p not in capped]
    return [c for p, c in enumerate(kept) if p in capped], rejections


def prompt_key(question: str) -> str:
    """The question reduced to what makes it the same question: NFKC, case folded,
    punctuation and whitespace collapsed."""
    text = unicodedata.normalize("NFKC", question).casefold()
    return _NOT_WORD.sub(" ", text).strip()


def example_tokens(candidate: Candidate, count: Count) -> int:
    """What the example costs in the model's context, template markers included."""
    texts = [candidate.system] if candidate.system else []
    texts += [candidate.question, candidate.answer]
    return sum(count(text) + MESSAGE_OVERHEAD for text in texts)


def rejection(candidate: Candidate, code: str, detail: str) -> Rejection:
    """A rejection naming the candidate by its question (without the sources it was given
    with), on one line and cut to fit."""
    question = _SPACE.sub(" ", question_in(candidate.question)).strip()
    if len(question) > MAX_QUESTION:
        question = question[: MAX_QUESTION - 1].rstrip() + "…"
    return Rejection(source=candidate.source, code=code, detail=detail, question=question)


def _first_broken_rule(
    candidate: Candidate,
    count: Count,
    max_seq_tokens: int,
    banned: list[tuple[str, re.Pattern[str]]],
) -> tuple[str | None, str]:
    for field in ("question", "answer"):
        if not getattr(candidate, field).strip():
            return "empty", f"The {field} is empty."
    for field in ("system", "question", "answer"):
        length = len(getattr(candidate, field))
        if length > MAX_TEXT:
            return "too_long", (
                f"The {field} is {length:,} characters; an example holds at most {MAX_TEXT:,}."
            )
    tokens = example_tokens(candidate, count)
    if tokens > max_seq_tokens:
        return "too_long", f"The example is {tokens:,} tokens; the model takes {max_seq_tokens:,}."
    for topic, pattern in banned:
        for field in ("question", "answer"):
            if pattern.search(getattr(candidate, field)):
                return "banned_topic", (
                    f'The {field} mentions "{" ".join(topic.split())}", a banned topic.'
                )
    return None, ""


def _cap(kept: list[Candidate], max_examples: int, seed: int) -> set[int]:
    """The positions in `kept` of the candidates under the cap: sources take turns."""
    if len(kept) <= max_examples:
        return set(range(len(kept)))
    by_source: dict[str, list[int]] = {}
    for position, candidate in enumerate(kept):
        by_source.setdefault(candidate.source, []).append(position)
    turns = [
        deque(sorted(positions, key=lambda p: _draw(seed, kept[p])))
        for positions in by_source.values()
    ]
    chosen: set[int] = set()
    while len(chosen) < max_examples:
        for turn in turns:
            if turn and len(chosen) < max_examples:
                chosen.add(turn.popleft())
    return chosen


def _draw(seed: int, candidate: Candidate) -> bytes:
    return hashlib.sha256(f"{seed}\0{example_id(candidate)}".encode()).digest()
