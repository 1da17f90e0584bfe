"""Scoring a benchmark's answers and runs: pure functions, no I/O.

The caller measures what needs a model (embeddings, the judge's reply, the answer's
citations) and passes the results in; everything here is deterministic, so an old run can be
scored again with a newer `SCORER_VERSION` and the difference is the scorer's alone.
"""

from services.benchmark.scoring.citations import (
    Citation,
    Grounded,
    grounded,
    score_citations,
    score_knowledge,
)
from services.benchmark.scoring.composite import (
    change_from,
    metrics,
    metrics_of,
    percent_change,
    within_noise,
)
from services.benchmark.scoring.judge import judge_messages, parse_judgement
from services.benchmark.scoring.match import score_value
from services.benchmark.scoring.scorer import SCORER_VERSION, score
from services.benchmark.scoring.text import cosine, normalize, score_text, token_overlap

__all__ = [
    "SCORER_VERSION",
    "Citation",
    "Grounded",
    "change_from",
    "cosine",
    "grounded",
    "judge_messages",
    "metrics",
    "metrics_of",
    "normalize",
    "parse_judgement",
    "percent_change",
    "score",
    "score_citations",
    "score_knowledge",
    "score_text",
    "score_value",
    "token_overlap",
    "within_noise",
]
