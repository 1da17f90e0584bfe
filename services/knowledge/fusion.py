"""Reciprocal-rank fusion of the vector and keyword result lists (pure)."""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60


def fuse(
    rankings: Sequence[Sequence[str]], k: int, *, rrf_k: int = RRF_K
) -> list[tuple[str, float]]:
    """Merge ranked id lists; each list gives 1/(rrf_k + rank). Scores are scaled to 0..1,
    1.0 meaning "first in every list". Ties keep the order of the first list."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (rrf_k + rank)
    best = len(rankings) / (rrf_k + 1)
    ordered = sorted(scores.items(), key=lambda kv: -kv[1])
    return [(item, round(score / best, 6)) for item, score in ordered[:k]]
