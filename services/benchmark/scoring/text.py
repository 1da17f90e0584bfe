"""Free-text measures: word overlap with the reference and embedding similarity, and their
blend.

Overlap is SQuAD's token F1: it rewards the reference's words and punishes padding, needs no
model, and is what remains when no embedding is at hand. Similarity (the cosine of the two
answers' embeddings) hears paraphrase that overlap misses, so it weighs more when the caller
has it. The caller embeds (it owns the model); everything here is pure.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

SIMILARITY_WEIGHT = 0.6
OVERLAP_WEIGHT = 0.4

# Punctuation between two digits is part of a number (3.14, 1,000, 17:15) and stays.
_PUNCTUATION = re.compile(r"(?<!\d)[^\w\s]|[^\w\s](?!\d)")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")

Scored = tuple[float, dict[str, float], list[str]]  # score, each measure's part, reasons


def normalize(text: str) -> str:
    """Lower case, punctuation as spaces, no articles, single spaces: the SQuAD normalization,
    except that punctuation separates words (so "O(log n)" and "O(log(n))" agree) and stays
    inside numbers."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _ARTICLES.sub(" ", _PUNCTUATION.sub(" ", text))
    return " ".join(text.split())


def token_overlap(answer: str, reference: str) -> float:
    """SQuAD token F1 of the normalized texts: 1.0 for the same words, 0.0 for none shared."""
    said, expected = normalize(answer).split(), normalize(reference).split()
    if not said or not expected:
        return float(said == expected)
    shared = sum((Counter(said) & Counter(expected)).values())
    if not shared:
        return 0.0
    precision, recall = shared / len(said), shared / len(expected)
    return 2 * precision * recall / (precision + recall)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity clipped to [0, 1]: an opposite direction means unrelated, not worse
    than unrelated. A zero vector is similar to nothing."""
    if len(a) != len(b):
        raise ValueError(f"vectors of different lengths: {len(a)} and {len(b)}")
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    if norms == 0:
        return 0.0
    return min(1.0, max(0.0, sum(x * y for x, y in zip(a, b, strict=True)) / norms))


def score_text(answer: str, reference: str, similarity: float | None) -> Scored:
    """0.6 × similarity + 0.4 × overlap, or overlap alone when no similarity was measured."""
    overlap = token_overlap(answer, reference)
    if similarity is None:
        return (
            overlap,
            {"overlap": overlap},
            [
                f"word overlap with the reference {overlap:.2f}; no embedding similarity was"
                " available, so overlap alone decides"
            ],
        )
    similarity = min(1.0, max(0.0, similarity))
    score = SIMILARITY_WEIGHT * similarity + OVERLAP_WEIGHT * overlap
    return (
        score,
        {"similarity": similarity, "overlap": overlap},
        [f"meaning similarity to the reference {similarity:.2f}, word overlap {overlap:.2f}"],
    )
