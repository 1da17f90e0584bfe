"""What the benchmark service answers with."""

from __future__ import annotations

from typing import Literal

import msgspec

from contracts.base import Reply
from contracts.benchmark.values import (
    COMPOSITE_FORMULA,
    BenchSettings,
    Question,
    QuestionResult,
    Resources,
    Status,
)
from contracts.scoped import AcceptedRun

# ---- replies -------------------------------------------------------------------------------


class BenchmarkView(Reply, frozen=True, kw_only=True):
    id: str
    expert_id: str
    adapter_id: str | None
    suite: str
    size: str
    trigger: str
    mode: str | None = None
    setup: str | None = None
    scorer_version: int = 1
    status: Status
    progress: float  # 0..1
    answered: int
    total: int
    composite_score: float | None = None
    avg_quality: float | None = None
    per_domain: dict[str, float] = {}
    avg_response_ms: float | None = None
    tokens_per_s: float | None = None
    early_termination_rate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    vs_baseline_pct: float | None = None
    vs_previous_pct: float | None = None
    within_noise: bool = False
    resources: Resources | None = None
    error: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    queued_at: str = ""


class BenchmarkList(Reply, frozen=True, kw_only=True):
    runs: list[BenchmarkView]


class BenchmarkResults(Reply, frozen=True, kw_only=True):
    run_id: str
    questions: list[Question]
    results: list[QuestionResult]
    scorer_version: int


class QuestionList(Reply, frozen=True, kw_only=True):
    questions: list[Question]


class BenchAccepted(AcceptedRun, frozen=True, kw_only=True):
    pass


class Comparison(Reply, frozen=True, kw_only=True):
    """The dashboard's table row for one adapter (None: the base model)."""

    label: str
    adapter_id: str | None
    run: BenchmarkView | None


class Alert(Reply, frozen=True, kw_only=True):
    kind: Literal["regression", "held_back", "promoted"]
    sentence: str
    adapter_id: str | None = None
    run_id: str | None = None
    rollback_to: str | None = None
    at: str = ""


class BenchSummary(Reply, frozen=True, kw_only=True):
    expert_id: str
    formula: str = COMPOSITE_FORMULA
    settings: BenchSettings = msgspec.field(default_factory=BenchSettings)
    points: list[BenchmarkView] = []  # finished runs, oldest first (the time series)
    comparison: list[Comparison] = []  # active, previous, base model
    alerts: list[Alert] = []
    questions: dict[str, int] = {}  # per suite


class DiagnosisStep(Reply, frozen=True, kw_only=True):
    setup: Literal["closed_book", "retrieval", "adapter"]
    run_id: str | None
    composite: float | None
    avg_quality: float | None


class DiagnosisView(Reply, frozen=True, kw_only=True):
    expert_id: str
    status: Status | Literal["none"]
    steps: list[DiagnosisStep] = []
    verdict: str = ""  # in plain words: add documents, fix retrieval, or fine-tune
    advice: list[str] = []
