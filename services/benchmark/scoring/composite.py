"""A run's metrics and the composite score, exactly as `COMPOSITE_FORMULA` states it.

    quality    = the mean question score (0–1); a question without a result scores 0
    speed      = 1 − min(mean response time, 30 s) / 30 s
    completion = 1 − the share of answers cut off by the token limit
    composite  = 100 × (0.70 × quality + 0.15 × speed + 0.15 × completion)

The 95% confidence interval says how far the composite could move by the luck of which
questions were asked. Only quality varies question by question in a way that matters, so the
interval is the normal approximation on it: composite ± 100 × 0.70 × 1.96 × sd / √n, with sd
the per-question scores' sample standard deviation, clipped to [0, 100]. One question tells
nothing about the spread, so n = 1 gives the whole [0, 100].
"""

from __future__ import annotations

import math
from collections import defaultdict
from statistics import fmean, stdev

from contracts.benchmark import BenchmarkView, BenchMetrics, Question, QuestionResult, Resources

QUALITY_WEIGHT, SPEED_WEIGHT, COMPLETION_WEIGHT = 0.70, 0.15, 0.15
SLOW_MS = 30_000.0  # a mean response time this long or longer earns no speed
Z_95 = 1.96


def metrics(
    questions: list[Question], results: list[QuestionResult], resources: Resources | None = None
) -> BenchMetrics:
    """The run's metrics from its questions and their results (matched by question id)."""
    by_id = {result.question_id: result for result in results}
    scores = [by_id[q.id].score if q.id in by_id else 0.0 for q in questions]
    quality = fmean(scores) if scores else 0.0
    response_ms = fmean(r.response_ms for r in results) if results else 0.0
    cut_off = sum(r.cut_off for r in results) / len(results) if results else 0.0
    speed = 1 - min(response_ms, SLOW_MS) / SLOW_MS if results else 0.0
    composite = _clip(
        100 * (QUALITY_WEIGHT * quality + SPEED_WEIGHT * speed + COMPLETION_WEIGHT * (1 - cut_off))
    )
    half = _half_width(scores)
    rates = [r.tokens_per_s for r in results if r.completion_tokens > 0 and r.tokens_per_s > 0]
    return BenchMetrics(
        questions=len(questions),
        composite=composite,
        avg_quality=quality,
        per_domain=_per_domain(questions, scores),
        avg_response_ms=response_ms,
        tokens_per_s=fmean(rates) if rates else 0.0,
        early_termination_rate=cut_off,
        ci_low=_clip(composite - half),
        ci_high=_clip(composite + half),
        resources=resources or Resources(),
    )


def _per_domain(questions: list[Question], scores: list[float]) -> dict[str, float]:
    grouped: dict[str, list[float]] = defaultdict(list)
    for question, value in zip(questions, scores, strict=True):
        grouped[question.domain].append(value)
    return {domain: fmean(values) for domain, values in grouped.items()}


def _half_width(scores: list[float]) -> float:
    """Half the 95% interval of the composite; a whole scale's worth below two questions."""
    if len(scores) < 2:
        return 100.0
    return 100 * QUALITY_WEIGHT * Z_95 * stdev(scores) / math.sqrt(len(scores))


def _clip(value: float) -> float:
    return min(100.0, max(0.0, value))


def percent_change(new: float | None, old: float | None) -> float | None:
    """How much new differs from old, in percent of old; None when either is missing or old
    is 0 (no change from nothing can be put in percent)."""
    if new is None or old is None or old == 0:
        return None
    return max(-1e6, min(1e6, 100 * (new - old) / old))


def within_noise(a: BenchMetrics, b: BenchMetrics) -> bool:
    """The two composites differ by less than their intervals' combined half-width,
    √(h₁² + h₂²): the difference could be the luck of the questions, not a real change."""
    half_a, half_b = (a.ci_high - a.ci_low) / 2, (b.ci_high - b.ci_low) / 2
    return abs(a.composite - b.composite) < math.hypot(half_a, half_b)


def metrics_of(view: BenchmarkView) -> BenchMetrics:
    """A finished run's view as metrics, for comparing with a new run."""
    return BenchMetrics(
        questions=view.total,
        composite=view.composite_score or 0.0,
        avg_quality=view.avg_quality or 0.0,
        ci_low=view.ci_low or 0.0,
        ci_high=view.ci_high or 0.0,
    )


def change_from(composite: float, other: BenchmarkView | None) -> float | None:
    """`percent_change` of a new composite from another run's, None without that run."""
    if other is None or other.composite_score is None:
        return None
    return percent_change(composite, other.composite_score)
