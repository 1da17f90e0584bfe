"""The benchmark context's names, limits and value types, shared by its events and messages."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

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


class Gate(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The runs one fine-tune's promotion is decided on, named on each of them: the candidate
    and the active version on the same questions (the expert's own set, or the built-in bank
    when it has none), and — when that was its own set — both on the built-in quick bank, the
    guard against forgetting. A run reused from before is named but does not carry it."""

    candidate_run_id: Token
    against_run_id: Token | None = None
    guard_run_id: Token | None = None
    guard_against_run_id: Token | None = None


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
