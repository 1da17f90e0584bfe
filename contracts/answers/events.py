"""What the expert context's answer aggregate and model backend append to the log."""

from __future__ import annotations

from typing import Annotated, ClassVar

from msgspec import Meta

from contracts.answers.values import (
    MAX_CLAIMS,
    MAX_SOURCES,
    MAX_TAGS,
    AnswerText,
    BackendKind,
    Citation,
    Claim,
    Fraction,
    GivenSource,
    Kind,
    Millis,
    Mode,
    Question,
    Rating,
    Reason,
    ScoreValue,
    Seconds,
    Sentence,
    Tag,
    TemplateRef,
    Url,
)
from contracts.base import Event
from contracts.expert import ShortText
from contracts.rules import Count, Token, items, line, prose
from contracts.scoped import ExpertFact


class AnswerFact(Event, frozen=True, kw_only=True, tag=False):
    """An event on one answer: the answer is the aggregate, and the expert who gave it
    travels with each event so the expert's views need no lookup of the answer."""

    answer_id: Token
    expert_id: Token


class AnswerGiven(AnswerFact, frozen=True, kw_only=True, tag="expert.AnswerGiven"):
    personal: ClassVar[tuple[str, ...]] = (
        "question",
        "sources",
        "answer",
        "citations",
        "refused",
        "violations",
        "claims",
    )
    kind: Kind = "answer"
    mode: Mode
    question: Question
    sources: items(GivenSource, MAX_SOURCES) = []
    answer: AnswerText  # as shown: citation markers that named no source removed
    citations: items(Citation, MAX_SOURCES) = []
    removed_citations: Count = 0
    refused: Reason | None = None  # why the expert declined (a guardrail), or None
    violations: items(line(200), 50) = []  # "don't" phrases the answer used anyway
    backend: BackendKind
    model: ShortText
    adapter_id: Token | None = None
    prompt_tokens: Count = 0
    completion_tokens: Count = 0
    finish_reason: line(40) = "stop"
    ttft_ms: Millis = 0.0  # from the request to the first piece of text
    latency_ms: Millis = 0.0  # from the request to the last piece
    tokens_per_s: Annotated[float, Meta(ge=0.0)] = 0.0
    retrieval_ms: Millis = 0.0  # finding the passages
    prompt_ms: Millis = 0.0  # building the prompt (persona, sources, token counting)
    claims: items(Claim, MAX_CLAIMS) = []  # per sentence, in order (empty before v0.3)
    attribution_ms: Millis = 0.0  # attributing the answer's sentences to the passages
    template: TemplateRef | None = None  # the template version that shaped it (None: none)


class AnswerScored(AnswerFact, frozen=True, kw_only=True, tag="expert.AnswerScored"):
    personal: ClassVar[tuple[str, ...]] = ("reasons",)
    score: ScoreValue
    groundedness: Fraction | None = None
    citation_validity: Fraction | None = None
    sanity: Fraction = 1.0
    refusal: bool = False
    reasons: items(Sentence, 20) = []
    scorer_version: line(40, min_length=1)


class FeedbackGiven(AnswerFact, frozen=True, kw_only=True, tag="expert.FeedbackGiven"):
    personal: ClassVar[tuple[str, ...]] = ("edited_answer", "tags", "comment")
    rating: Rating
    edited_answer: AnswerText | None = None
    tags: items(Tag, MAX_TAGS) = []
    comment: prose(4000) = ""


AnswerEvent = AnswerGiven | AnswerScored | FeedbackGiven


class BackendConfigured(ExpertFact, frozen=True, kw_only=True, tag="expert.BackendConfigured"):
    """The expert's model backend. The API key travels sealed (runtime.secrets), never plain."""

    kind: BackendKind
    base_url: Url | None = None
    model: ShortText | None = None
    api_key_sealed: line(2000) | None = None
    key_id: line(64) | None = None  # which secret key sealed it
    timeout_s: Seconds = 60.0
