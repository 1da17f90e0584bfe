"""Examples that teach an adapter to answer from numbered sources, the RAFT way: the question
comes with the passage that answers it among other passages of the same expert, numbered
exactly as the live answer's prompt numbers them (`contracts.prompting`), and the answer
cites the passage it comes from as [n]. Shown only a passage, an adapter would learn to
append "[1]" to anything; shown several, it learns to find the one that answers and to say
which.

For each written (passage, question, answer):

- 2 to 4 distractors, preferring passages that share words with the question (hard
  negatives: the model must read them to tell them apart), never the gold passage's own
  chunk, one holding the answer's words (an overlapping chunk), or a contents, index or
  licence page (`boilerplate.py`);
- the gold passage at a varying position, so no number is "the right one";
- about one example in `NOT_COVERED_EVERY` shows only distractors and is answered
  `NOT_COVERED`, so the adapter also learns to say when the sources do not answer;
- the system message is the persona followed by `RAG_RULES`, as the live prompt has it.

Everything is drawn from a hash of the build seed and the question, so the same passages
and seed give the same examples.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple

from contracts.answers import Citation
from contracts.dataset import Provenance
from contracts.prompting import NOT_COVERED, RAG_RULES, sources_message
from services.dataset.boilerplate import boilerplate
from services.dataset.candidates import Candidate, passage_field

MIN_DISTRACTORS = 2
MAX_DISTRACTORS = 4
NOT_COVERED_EVERY = 8
NOT_COVERED_TAG = "not-covered"

_WORD = re.compile(r"[^\W_]{3,}")
_SPACE = re.compile(r"\s+")
_COMMON = {
    "the", "and", "for", "are", "was", "were", "you", "your", "what", "when", "how", "does",
    "did", "can", "not", "with", "that", "this", "from", "have", "has", "its", "their",
    "they", "which", "who", "why", "about", "into", "need", "know", "steps", "there", "will",
    "should", "must", "may", "all", "any", "but", "out", "use", "one", "also",
}  # fmt: skip


class Written(NamedTuple):
    """A question about a passage and its answer from that passage (not yet cited)."""

    passage: Any
    question: str
    answer: str


@dataclass(frozen=True)
class Shown:
    """A passage as the prompt shows it: its number, where it is from, its text."""

    n: int
    filename: str
    page: int
    text: str


def system_message(persona: str) -> str:
    """The persona, then the rules for answering from sources, as the live RAG prompt."""
    return f"{persona}\n\n{RAG_RULES}" if persona.strip() else RAG_RULES


def raft_candidates(
    written: list[Written], passages: list[Any], *, system: str, seed: int, tag: str
) -> list[Candidate]:
    """Each written question as an example among distractors drawn from `passages`
    (mappings or objects with document_id, filename, page, chunk_id and text)."""
    pool = Pool(passages)
    offset = _draw(seed, "not covered").randrange(NOT_COVERED_EVERY)
    return [
        _example(
            w,
            pool,
            system=system_message(system),
            seed=seed,
            tag=tag,
            not_covered=(n + offset) % NOT_COVERED_EVERY == 0,
        )  # fmt: skip
        for n, w in enumerate(written)
    ]


def _example(
    w: Written, pool: Pool, *, system: str, seed: int, tag: str, not_covered: bool
) -> Candidate:
    rng = _draw(seed, w.question, passage_field(w.passage, "chunk_id"))
    wanted = rng.randint(MIN_DISTRACTORS, MAX_DISTRACTORS)
    others = pool.distractors(w, wanted, rng)
    covered = not (not_covered and len(others) >= MIN_DISTRACTORS)
    shown = list(others)
    gold_at = rng.randrange(len(others) + 1)
    if covered:
        shown.insert(gold_at, w.passage)
    numbered = [
        Shown(n, passage_field(p, "filename"), passage_field(p, "page"), passage_field(p, "text"))
        for n, p in enumerate(shown, start=1)
    ]
    where = _where(w.passage)
    citations = [Citation(n=gold_at + 1, **where)] if covered else []
    return Candidate(
        source="knowledge",
        question=sources_message(numbered, w.question),
        answer=f"{_uncited(w.answer)} [{gold_at + 1}]" if covered else NOT_COVERED,
        system=system,
        group=where["chunk_id"],
        provenance=Provenance(**where),
        citations=citations,
        tags=[tag] if covered else [tag, NOT_COVERED_TAG],
    )


class Pool:
    """The passages distractors are drawn from, indexed by their words."""

    def __init__(self, passages: list[Any]) -> None:
        # judged by whole pages as well as by passage: the last lines of a contents page,
        # chunked apart from the rest, no longer look like contents on their own; sorted, so
        # the seed draws the same distractors whatever order the passages were read in
        dull = {page for page, text in _pages(passages).items() if boilerplate(text)}
        self.passages = sorted(
            (
                p
                for p in passages
                if _page_of(p) not in dull and not boilerplate(passage_field(p, "text"))
            ),
            key=lambda p: (*_page_of(p), str(passage_field(p, "chunk_id"))),
        )
        self.flat = [_collapse(passage_field(p, "text")) for p in self.passages]
        self.holding: dict[str, list[int]] = defaultdict(list)
        for n, p in enumerate(self.passages):
            for word in _words(passage_field(p, "text")):
                self.holding[word].append(n)

    def distractors(self, w: Written, wanted: int, rng: random.Random) -> list[Any]:
        """Up to `wanted` passages other than the gold one: those sharing the most words
        with the question first (ties in the seeded order), then any, drawn by the seed."""
        gold = passage_field(w.passage, "chunk_id")
        answer = _collapse(_uncited(w.answer))

        def fits(n: int) -> bool:
            return (
                passage_field(self.passages[n], "chunk_id") != gold and answer not in self.flat[n]
            )

        shared = Counter(n for word in _words(w.question) for n in self.holding.get(word, ()))
        ties = {n: rng.random() for n in shared}
        ranked = sorted(shared, key=lambda n: (-shared[n], ties[n]))
        chosen: list[int] = []
        for n in ranked:
            if len(chosen) == wanted:
                break
            if fits(n):
                chosen.append(n)
        taken = set(chosen)
        rest = [n for n in range(len(self.passages)) if n not in taken]
        for n in rng.sample(rest, min(len(rest), 4 * wanted)):
            if len(chosen) == wanted:
                break
            if fits(n):
                chosen.append(n)
        return [self.passages[n] for n in chosen]


def _page_of(passage: Any) -> tuple[str, int]:
    return str(passage_field(passage, "document_id")), int(passage_field(passage, "page") or 0)


def _pages(passages: list[Any]) -> dict[tuple[str, int], str]:
    """Each page's text, its passages joined in order."""
    texts: dict[tuple[str, int], list[str]] = defaultdict(list)
    for p in passages:
        texts[_page_of(p)].append(passage_field(p, "text"))
    return {page: "\n".join(parts) for page, parts in texts.items()}


def _where(passage: Any) -> dict[str, Any]:
    return {f: passage_field(passage, f) for f in ("document_id", "filename", "page", "chunk_id")}


def _uncited(answer: str) -> str:
    """An answer without the [n] markers a model may have written."""
    return _SPACE.sub(" ", re.sub(r"\s*\[\d+\]", "", answer)).strip()


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _COMMON}


def _collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _draw(seed: int, *parts: str) -> random.Random:
    key = "\0".join((str(seed), *parts)).encode("utf-8", "surrogatepass")
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))
