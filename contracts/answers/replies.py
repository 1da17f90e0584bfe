"""What the expert service answers with, and the frames that stream an answer while it is written
(core NATS, not the log)."""

from __future__ import annotations

import msgspec

from contracts.answers.values import (
    Citation,
    Claim,
    GivenSource,
    TemplateRef,
)
from contracts.base import Reply


class AnswerReply(Reply, frozen=True, kw_only=True):
    answer_id: str
    answer: str
    citations: list[Citation]
    model: str
    adapter_id: str | None
    latency_ms: float
    tokens_per_s: float
    mode: str
    kind: str = "answer"
    backend: str = "local"
    removed_citations: int = 0
    refused: str | None = None
    ttft_ms: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"
    retrieval_ms: float = 0.0
    prompt_ms: float = 0.0
    seq: int = 0
    claims: list[Claim] = []
    attribution_ms: float = 0.0
    template: TemplateRef | None = None  # the template version that shaped the answer


class Feedback(msgspec.Struct, frozen=True, kw_only=True):
    rating: int
    edited_answer: str | None
    tags: list[str]
    comment: str
    given_at: str
    count: int  # feedback events on this answer so far


class ScoreView(msgspec.Struct, frozen=True, kw_only=True):
    score: float
    groundedness: float | None
    citation_validity: float | None
    sanity: float
    refusal: bool
    reasons: list[str]
    scorer_version: str


class TraceView(Reply, frozen=True, kw_only=True):
    answer_id: str
    expert_id: str
    kind: str
    mode: str
    question: str
    answer: str
    citations: list[Citation]
    sources: list[GivenSource]
    removed_citations: int
    refused: str | None
    violations: list[str]
    backend: str
    model: str
    adapter_id: str | None
    prompt_tokens: int
    completion_tokens: int
    ttft_ms: float
    latency_ms: float
    tokens_per_s: float
    created_at: str
    retrieval_ms: float = 0.0
    prompt_ms: float = 0.0
    score: ScoreView | None = None
    feedback: Feedback | None = None
    claims: list[Claim] = []
    template: TemplateRef | None = None  # the template version that shaped the answer


class TracePage(Reply, frozen=True, kw_only=True):
    traces: list[TraceView]
    next: str | None = None


class BackendView(Reply, frozen=True, kw_only=True):
    kind: str
    base_url: str | None
    model: str | None
    api_key_set: bool
    timeout_s: float
    label: str  # what the console says is answering, e.g. "the bundled SmolLM2-135M model"


class PersonaView(Reply, frozen=True, kw_only=True):
    text: str
    banned_topics: list[str]


class Completion(Reply, frozen=True, kw_only=True):
    text: str
    backend: str
    model: str
    bundled: bool  # the small bundled model wrote it
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Rescored(Reply, frozen=True, kw_only=True):
    scored: int
    scorer_version: str


class BackendTestResult(Reply, frozen=True, kw_only=True):
    ok: bool
    detail: str
    latency_ms: float


# ---- stream frames (core NATS, not the log) ------------------------------------------------


class Queued(msgspec.Struct, frozen=True, tag="queued"):
    position: int


class Sources(msgspec.Struct, frozen=True, tag="sources"):
    sources: list[Citation]


class Written(msgspec.Struct, frozen=True, tag="token"):
    text: str


Frame = Queued | Sources | Written


EVERY_STREAM = "answer.stream.>"  # every answer's frames, as NATS subject filters
EVERY_CANCEL = "answer.cancel.>"


def stream_subject(tenant: str, stream_id: str) -> str:
    return f"answer.stream.{tenant}.{stream_id}"


def cancel_subject(tenant: str, stream_id: str) -> str:
    return f"answer.cancel.{tenant}.{stream_id}"
