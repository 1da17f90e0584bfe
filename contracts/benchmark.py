"""The benchmark context: does an adapter make the expert better? Question sets, scored runs,
the composite score, before/after comparisons, and promotion gated on the evidence.

Two aggregates.
- An expert's *bench* (`bench`, keyed by the expert id): its settings (promote only if
  better, by what margin, the schedule), its own question sets — custom questions and the set
  generated from its knowledge base — and the decisions taken on runs' results: a promotion
  made or held back (and why), a regression noticed.
- A *run* (`run`, keyed by the run id): the questions it asks (fixed when it is queued), each
  question's scored result as it comes (so a run resumes where it stopped), then one ending:
  `BenchmarkCompleted` with its metrics, `BenchmarkFailed` or `BenchmarkCancelled`. Scoring
  an old run again with a newer scorer appends `BenchmarkRescored`; nothing is overwritten.

Every result records the scorer and its version. The composite score's formula is
`COMPOSITE_FORMULA`, shown on the dashboard.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from contracts.base import Command, Event, Query, Reply
from contracts.rules import Count, Token, items, line, prose

CONTEXT = "benchmark"
STREAM = "BENCHMARK"
BENCH = "bench"
RUN = "run"
BASE = "base"  # as an adapter: the base model, no adapter

Domain = line(40, min_length=1)  # mathematics, coding, science, reasoning, creative, or a topic
Suite = Literal["builtin", "expert", "custom"]
Size = Literal["quick", "full"]
Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]
Trigger = Literal["api", "manual", "after_training", "schedule", "diagnosis"]
Kind = Literal["value", "text", "knowledge"]  # exact/numeric match, free text, from documents
Difficulty = Literal["easy", "medium", "hard"]
Score = Annotated[float, Meta(ge=0.0, le=1.0)]
Percent = Annotated[float, Meta(ge=-1e6, le=1e6)]
Reason = line(500)
SIZES = {"quick": 10, "full": 50}
COMPOSITE_FORMULA = (
    "composite = 100 × (0.70 × quality + 0.15 × speed + 0.15 × completion), where quality is"
    " the mean question score (0–1), speed = 1 − min(mean response time, 30 s) / 30 s, and"
    " completion is the share of answers that were not cut off"
)


class Question(msgspec.Struct, frozen=True, kw_only=True):
    """One question and how to judge an answer to it."""

    id: Token
    domain: Domain
    question: prose(2000)
    reference: prose(4000)  # the expected answer (a value, or an answer in the source's words)
    kind: Kind = "text"
    difficulty: Difficulty = "medium"
    rubric: prose(2000) = ""  # what a good answer must do (the judge applies it)
    document_id: Token | None = None  # knowledge questions: where the answer is
    filename: line(255) | None = None
    page: Count | None = None
    source: Literal["builtin", "expert", "custom"] = "builtin"


class QuestionResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """How one answer scored, and what measured it."""

    question_id: Token
    domain: Domain
    answer: prose(8000)
    score: Score
    scorer: line(60)  # "numeric", "exact", "similarity+overlap", "judge", ...
    scorer_version: Count
    parts: dict[line(40), float] = {}  # each measure's own score, e.g. {"similarity": 0.8}
    reasons: items(line(300), 8) = []
    response_ms: float = 0.0
    completion_tokens: Count = 0
    tokens_per_s: float = 0.0
    cut_off: bool = False  # stopped by the token limit
    error: line(300) | None = None  # the expert could not answer it
    citations: items(line(100), 20) = []  # "document_id:page" of each passage it cited


class Resources(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    cpu_percent: float = 0.0  # mean over the run, of one core = 100
    ram_mb: float = 0.0  # the peak of the answering processes
    vram_mb: float | None = None


class BenchMetrics(msgspec.Struct, frozen=True, kw_only=True):
    questions: Count
    composite: Annotated[float, Meta(ge=0, le=100)]
    avg_quality: Score
    per_domain: dict[Domain, Score] = {}
    avg_response_ms: float = 0.0
    tokens_per_s: float = 0.0
    early_termination_rate: Score = 0.0
    ci_low: float = 0.0  # the composite's 95% confidence interval
    ci_high: float = 0.0
    resources: Resources = msgspec.field(default_factory=Resources)


class BenchSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    promote_only_if_better: bool = True
    margin_points: Annotated[float, Meta(ge=0, le=50)] = 2.0  # composite points to beat by
    after_training: bool = True  # a quick run on the expert's own set after every fine-tune
    schedule: line(100) = "off"  # cron of periodic runs, or "off"
    judge: bool = False  # ask the expert's model backend to judge with the rubric


# ---- events: the expert's bench -------------------------------------------------------------


class BenchConfigured(Event, frozen=True, kw_only=True, tag="benchmark.BenchConfigured"):
    expert_id: Token
    settings: BenchSettings


class QuestionsAdded(Event, frozen=True, kw_only=True, tag="benchmark.QuestionsAdded"):
    """Custom questions, typed in or imported as JSONL."""

    expert_id: Token
    questions: items(Question, 500)


class QuestionRemoved(Event, frozen=True, kw_only=True, tag="benchmark.QuestionRemoved"):
    expert_id: Token
    question_id: Token


class ExpertSetGenerated(Event, frozen=True, kw_only=True, tag="benchmark.ExpertSetGenerated"):
    """Questions written from the expert's documents, each with the page that answers it;
    a new set replaces the last."""

    expert_id: Token
    questions: items(Question, 200)
    documents: Count


class PromotionDecided(Event, frozen=True, kw_only=True, tag="benchmark.PromotionDecided"):
    """After a fine-tune's run: the new adapter was activated, or held back and why."""

    expert_id: Token
    adapter_id: Token
    run_id: Token
    promoted: bool
    reason: Reason
    against_run_id: Token | None = None
    delta_points: float | None = None


class RegressionDetected(Event, frozen=True, kw_only=True, tag="benchmark.RegressionDetected"):
    """A run of the active adapter scored lower than the run before it, beyond noise."""

    expert_id: Token
    adapter_id: Token | None
    run_id: Token
    previous_run_id: Token
    delta_points: float
    rollback_to: Token | None = None  # the version a one-click rollback would restore


# ---- events: a run -----------------------------------------------------------------------------


class BenchmarkQueued(Event, frozen=True, kw_only=True, tag="benchmark.BenchmarkQueued"):
    run_id: Token
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


class BenchmarkStarted(Event, frozen=True, kw_only=True, tag="benchmark.BenchmarkStarted"):
    run_id: Token
    attempt: Count = 1


class QuestionScored(Event, frozen=True, kw_only=True, tag="benchmark.QuestionScored"):
    run_id: Token
    index: Count  # its place in the run's questions
    result: QuestionResult


class BenchmarkCompleted(Event, frozen=True, kw_only=True, tag="benchmark.BenchmarkCompleted"):
    run_id: Token
    metrics: BenchMetrics
    vs_baseline_pct: Percent | None = None  # against the latest base-model run
    vs_previous_pct: Percent | None = None  # against this expert's run before it
    baseline_run_id: Token | None = None
    previous_run_id: Token | None = None
    within_noise: bool = False  # the difference to the previous run is inside both CIs


class BenchmarkFailed(Event, frozen=True, kw_only=True, tag="benchmark.BenchmarkFailed"):
    run_id: Token
    reason: Reason


class BenchmarkCancelled(Event, frozen=True, kw_only=True, tag="benchmark.BenchmarkCancelled"):
    run_id: Token


class BenchmarkRescored(Event, frozen=True, kw_only=True, tag="benchmark.BenchmarkRescored"):
    """The run's answers scored again by a newer scorer; the old scores stay on the log."""

    run_id: Token
    scorer_version: Count
    results: items(QuestionResult, 200)
    metrics: BenchMetrics


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
)


# ---- commands ------------------------------------------------------------------------------


class StartBenchmark(Command, frozen=True, kw_only=True, tag="benchmark.StartBenchmark"):
    subject = "cmd.benchmark.start"
    reply = "BenchAccepted"

    expert_id: Token
    suite: Suite = "builtin"
    size: Size = "quick"
    adapter_id: Token | None = None  # None: the active one; "base": the base model
    trigger: Trigger = "api"


class CancelBenchmark(Command, frozen=True, kw_only=True, tag="benchmark.CancelBenchmark"):
    subject = "cmd.benchmark.cancel"
    reply = "Accepted"

    run_id: Token


class ConfigureBench(Command, frozen=True, kw_only=True, tag="benchmark.ConfigureBench"):
    subject = "cmd.benchmark.configure"
    reply = "Accepted"

    expert_id: Token
    settings: BenchSettings


class AddQuestions(Command, frozen=True, kw_only=True, tag="benchmark.AddQuestions"):
    subject = "cmd.benchmark.add_questions"
    reply = "Accepted"

    expert_id: Token
    questions: items(Question, 500)


class RemoveQuestion(Command, frozen=True, kw_only=True, tag="benchmark.RemoveQuestion"):
    subject = "cmd.benchmark.remove_question"
    reply = "Accepted"

    expert_id: Token
    question_id: Token


class GenerateExpertSet(Command, frozen=True, kw_only=True, tag="benchmark.GenerateExpertSet"):
    subject = "cmd.benchmark.generate_set"
    reply = "Accepted"

    expert_id: Token
    count: Annotated[int, Meta(ge=1, le=200)] = 50


class RescoreBenchmark(Command, frozen=True, kw_only=True, tag="benchmark.RescoreBenchmark"):
    """Score a finished run's answers again with the current scorer."""

    subject = "cmd.benchmark.rescore"
    reply = "Accepted"

    run_id: Token


class Diagnose(Command, frozen=True, kw_only=True, tag="benchmark.Diagnose"):
    """Run the expert's own set closed book, with retrieval, and with the adapter."""

    subject = "cmd.benchmark.diagnose"
    reply = "DiagnosisView"

    expert_id: Token
    size: Size = "quick"


# ---- queries -------------------------------------------------------------------------------


class GetBenchmark(Query, frozen=True, kw_only=True, tag="benchmark.GetBenchmark"):
    subject = "qry.benchmark.run"
    reply = "BenchmarkView"

    run_id: Token


class ListBenchmarks(Query, frozen=True, kw_only=True, tag="benchmark.ListBenchmarks"):
    subject = "qry.benchmark.runs"
    reply = "BenchmarkList"

    expert_id: Token
    adapter_id: Token | None = None
    since: line(40) | None = None
    until: line(40) | None = None
    limit: Annotated[int, Meta(ge=1, le=5000)] = 200


class GetResults(Query, frozen=True, kw_only=True, tag="benchmark.GetResults"):
    subject = "qry.benchmark.results"
    reply = "BenchmarkResults"

    run_id: Token


class ListQuestions(Query, frozen=True, kw_only=True, tag="benchmark.ListQuestions"):
    subject = "qry.benchmark.questions"
    reply = "QuestionList"

    expert_id: Token
    suite: Suite | None = None


class GetSummary(Query, frozen=True, kw_only=True, tag="benchmark.GetSummary"):
    subject = "qry.benchmark.summary"
    reply = "BenchSummary"

    expert_id: Token
    adapter_id: Token | None = None
    since: line(40) | None = None
    until: line(40) | None = None


class GetDiagnosis(Query, frozen=True, kw_only=True, tag="benchmark.GetDiagnosis"):
    subject = "qry.benchmark.diagnosis"
    reply = "DiagnosisView"

    expert_id: Token


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


class BenchAccepted(Reply, frozen=True, kw_only=True):
    run_id: str
    seq: int


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
