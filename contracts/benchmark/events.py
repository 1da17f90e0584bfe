"""The benchmark context's events: what happened, kept on its stream forever."""

from __future__ import annotations

from typing import ClassVar, Literal

from contracts.benchmark.values import (
    BenchMetrics,
    BenchSettings,
    Gate,
    Percent,
    Question,
    QuestionResult,
    Reason,
    Size,
    Suite,
    Trigger,
)
from contracts.rules import Count, Token, items
from contracts.scoped import ExpertFact, RunFact

# ---- events: the expert's bench -------------------------------------------------------------


class BenchConfigured(ExpertFact, frozen=True, kw_only=True, tag="benchmark.BenchConfigured"):
    settings: BenchSettings


class QuestionsAdded(ExpertFact, frozen=True, kw_only=True, tag="benchmark.QuestionsAdded"):
    """Custom questions, typed in or imported as JSONL."""

    personal: ClassVar[tuple[str, ...]] = ("questions",)

    questions: items(Question, 500)


class QuestionRemoved(ExpertFact, frozen=True, kw_only=True, tag="benchmark.QuestionRemoved"):
    question_id: Token


class ExpertSetGenerated(ExpertFact, frozen=True, kw_only=True, tag="benchmark.ExpertSetGenerated"):
    """Questions written from the expert's documents, each with the page that answers it;
    a new set replaces the last."""

    personal: ClassVar[tuple[str, ...]] = ("questions",)

    questions: items(Question, 200)
    documents: Count
    # The dataset version whose held-out side it was written from (None before these were
    # recorded): a fine-tune on a newer version writes the set again from that one.
    dataset_id: Token | None = None
    dataset_version: Count | None = None
    trigger: Literal["api", "after_training"] = "api"


class PromotionDecided(ExpertFact, frozen=True, kw_only=True, tag="benchmark.PromotionDecided"):
    """After a fine-tune's run: the new adapter was activated, or held back and why."""

    adapter_id: Token
    run_id: Token
    promoted: bool
    reason: Reason
    against_run_id: Token | None = None
    delta_points: float | None = None
    # The built-in bank's guard against forgetting (a gated fine-tune's only): the candidate's
    # run on it and its composite's change from the active version's run.
    guard_run_id: Token | None = None
    guard_delta_points: float | None = None


class RegressionDetected(ExpertFact, frozen=True, kw_only=True, tag="benchmark.RegressionDetected"):
    """A run of the active adapter scored lower than the run before it, beyond noise."""

    adapter_id: Token | None
    run_id: Token
    previous_run_id: Token
    delta_points: float
    rollback_to: Token | None = None  # the version a one-click rollback would restore


# ---- events: a run -----------------------------------------------------------------------------


class BenchmarkQueued(RunFact, frozen=True, kw_only=True, tag="benchmark.BenchmarkQueued"):
    personal: ClassVar[tuple[str, ...]] = ("questions",)
    expert_id: Token
    suite: Suite
    size: Size
    adapter_id: Token | None  # None: the base model
    questions: items(Question, 200)
    trigger: Trigger = "api"
    candidate: bool = False  # a fine-tune's new adapter: promote it if it is better
    judge: bool = False
    mode: Literal["rag", "closed"] | None = None  # None: the expert's usual (rag if it can)
    diagnosis_id: Token | None = None  # one of a diagnosis's three runs
    setup: Literal["closed_book", "retrieval", "adapter"] | None = None
    gate: Gate | None = None  # one of the runs a fine-tune's promotion is decided on


class BenchmarkStarted(RunFact, frozen=True, kw_only=True, tag="benchmark.BenchmarkStarted"):
    attempt: Count = 1


class QuestionScored(RunFact, frozen=True, kw_only=True, tag="benchmark.QuestionScored"):
    personal: ClassVar[tuple[str, ...]] = ("result",)
    index: Count  # its place in the run's questions
    result: QuestionResult


class BenchmarkCompleted(RunFact, frozen=True, kw_only=True, tag="benchmark.BenchmarkCompleted"):
    metrics: BenchMetrics
    vs_baseline_pct: Percent | None = None  # against the latest base-model run
    vs_previous_pct: Percent | None = None  # against this expert's run before it
    baseline_run_id: Token | None = None
    previous_run_id: Token | None = None
    within_noise: bool = False  # the difference to the previous run is inside both CIs


class BenchmarkFailed(RunFact, frozen=True, kw_only=True, tag="benchmark.BenchmarkFailed"):
    reason: Reason


class BenchmarkCancelled(RunFact, frozen=True, kw_only=True, tag="benchmark.BenchmarkCancelled"):
    pass


class BenchmarkRescored(RunFact, frozen=True, kw_only=True, tag="benchmark.BenchmarkRescored"):
    """The run's answers scored again by a newer scorer; the old scores stay on the log."""

    personal: ClassVar[tuple[str, ...]] = ("results",)

    scorer_version: Count
    results: items(QuestionResult, 200)
    metrics: BenchMetrics


class BenchErased(ExpertFact, frozen=True, kw_only=True, tag="benchmark.BenchErased"):
    """On the expert's bench: the expert was deleted; its runs, alerts and settings are gone."""


BenchmarkEvent = (
    BenchConfigured
    | QuestionsAdded
    | QuestionRemoved
    | ExpertSetGenerated
    | PromotionDecided
    | RegressionDetected
    | BenchmarkQueued
    | BenchmarkStarted
    | QuestionScored
    | BenchmarkCompleted
    | BenchmarkFailed
    | BenchmarkCancelled
    | BenchmarkRescored
    | BenchErased
)
