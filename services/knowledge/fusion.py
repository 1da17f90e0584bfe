"""Reciprocal-rank fusion of the vector and keyword result lists (pure)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

RRF_K = 60


def fuse(
    rankings: Sequence[Sequence[str]],
    k: int,
    *,
    rrf_k: int = RRF_K,
    last: Collection[str] = (),
) -> list[tuple[str, float]]:
    """Merge ranked id lists; each list gives 1/(rrf_k + rank). Scores are scaled to 0..1,
    1.0 meaning "first in every list". Ties keep the order of the first list.

    Items in `last` (contents and index pages, see `navigation`) are ranked as if absent and
    only fill the places left after every other item; their score is never above the score
    of an item ranked before them, so the order and the scores tell the same story.
    """
    kept = [[item for item in ranking if item not in last] for ranking in rankings]
    put_last = [[item for item in ranking if item in last] for ranking in rankings]
    best = len(rankings) / (rrf_k + 1)
    fused = _scored(kept, rrf_k, best)[:k]
    floor = fused[-1][1] if fused else 1.0
    for item, score in _scored(put_last, rrf_k, best)[: k - len(fused)]:
        floor = min(floor, score)
        fused.append((item, floor))
    return fused


def _scored(rankings: list[list[str]], rrf_k: int, best: float) -> list[tuple[str, float]]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (rrf_k + rank)
    ordered = sorted(scores.items(), key=lambda kv: -kv[1])
    return [(item, round(score / best, 6)) for item, score in ordered]
