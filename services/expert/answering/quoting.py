"""An answer worth reading when the model is small: lead with what the documents say.

A 135M model given the right passage still strays from it. So, when the expert's
`quote_sources` setting asks for it ("always"; or "auto", the default, when the model is the
bundled one or attribution found less than `LOW_SUPPORT` of its sentences supported), the
answer opens with the sentences of the top passages that best answer the question, quoted
word for word with their citations, and the model's text follows, marked as its own.

Which sentences: those of the first `QUOTE_PASSAGES` passages (retrieval's best), scored
against the question as attribution scores a sentence against a passage —

    relevance = COSINE_WEIGHT * cosine(question, sentence) + (1 - COSINE_WEIGHT) * overlap

(overlap: the share of the question's content words the sentence holds) — less
`RANK_PENALTY` per place the passage stands below the first. The best is quoted when it
reaches `MIN_RELEVANCE`, a second when it reaches `SECOND_SHARE` of the best. Sentences that
read like a contents or index line, a heading or a fragment are never quoted.
`MIN_RELEVANCE` and `RANK_PENALTY` were measured on the page-labelled manuals
(`tests/support/manual_set.py`, `python -m benchmarks grounding` sweeps them): at 0.40 and
0.03 the lead quotes the labelled page for 73% of the answerable questions and a wrong page
only for 8%; a floor of 0.45 drops that to 61%, and only 0.55 or more stops most questions
the manuals do not answer from quoting their nearest sentence. See docs/benchmarks.md.

Pure: the caller embeds the question with the passages' sentences (`Reading.texts`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from contracts.answers import Claim
from contracts.expert import QuoteSources
from contracts.prompting import DOCUMENTS_SAY, MODEL_SAYS
from services.expert.answering.attribution import COSINE_WEIGHT, content_words

QUOTE_PASSAGES = 3
MAX_QUOTES = 2
MIN_RELEVANCE = 0.40
SECOND_SHARE = 0.9
RANK_PENALTY = 0.03
LOW_SUPPORT = 0.5
MIN_WORDS, MAX_WORDS = 5, 70


_LEADERS = re.compile(r"(?:\.\s?){4,}|…|_{4,}")
_NUMBER = re.compile(r"^\(?\d+(?:\.\d+)*[.)]?$")


@dataclass(frozen=True)
class Quote:
    text: str  # a sentence of passage `n`, word for word
    n: int
    relevance: float


def should_lead(setting: QuoteSources, *, bundled: bool, support: float | None) -> bool:
    """Whether the answer opens with quotes: the expert's setting, and for "auto" the model
    (the bundled one) or how little of its answer its passages support."""
    if setting != "auto":
        return setting == "always"
    return bundled or (support is not None and support < LOW_SUPPORT)


def choose(
    question: str,
    question_vector: np.ndarray,
    passage_sentences: Sequence[Sequence[str]],
    sentence_vectors: np.ndarray,
    numbers: Sequence[int],
    *,
    min_relevance: float = MIN_RELEVANCE,
    rank_penalty: float = RANK_PENALTY,
) -> list[Quote]:
    """The quotes to lead with, best first: from the sentences of each passage (in the order
    given, numbered `numbers`), with their unit vectors as rows of `sentence_vectors`.
    (`min_relevance` and `rank_penalty` are settable for the benchmark's sweep.)"""
    asked = content_words(question)
    q = _unit(question_vector.reshape(1, -1))[0]
    rows = _unit(sentence_vectors)
    found: list[Quote] = []
    row = 0
    for rank, (sentences, n) in enumerate(zip(passage_sentences, numbers, strict=True)):
        for sentence in sentences:
            vector, row = rows[row], row + 1
            if rank >= QUOTE_PASSAGES or not quotable(sentence):
                continue
            words = content_words(sentence)
            overlap = len(asked & words) / len(asked) if asked else 0.0
            relevance = COSINE_WEIGHT * float(vector @ q) + (1 - COSINE_WEIGHT) * overlap
            found.append(Quote(sentence.strip(), n, relevance - rank_penalty * rank))
    found.sort(key=lambda quote: -quote.relevance)
    if not found or found[0].relevance < min_relevance:
        return []
    best = found[0]
    chosen = [best]
    for quote in found[1:]:
        if len(chosen) == MAX_QUOTES or quote.relevance < SECOND_SHARE * best.relevance:
            break
        if quote.text != best.text:
            chosen.append(quote)
    return chosen


def quotable(sentence: str) -> bool:
    """A whole sentence worth quoting: of a readable length, ending as a sentence ends, and
    not a contents, index or heading line (dot leaders, runs of numbers)."""
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or _LEADERS.search(sentence):
        return False
    if not sentence.rstrip("\"')\u201d").endswith((".", "!")):
        return False
    numbers = sum(bool(_NUMBER.match(w)) for w in words)
    return numbers / len(words) < 0.25 and any(c.islower() for c in sentence)


def lead(quotes: Sequence[Quote], model_text: str) -> str:
    """The answer as shown: the quotes, each with its citation, then the model's text."""
    quoted = "\n".join(f"> {q.text} [{q.n}]" for q in quotes)
    return f"{DOCUMENTS_SAY}\n{quoted}\n\n{MODEL_SAYS}\n{model_text}"


def quote_claims(quotes: Sequence[Quote]) -> list[Claim]:
    return [
        Claim(text=q.text, citations=[q.n], support="supported", origin="documents") for q in quotes
    ]


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)
