"""Answers, drafts and feedback (the expert context's `answer` aggregate), the expert's model
backend, and the frames that stream an answer while it is written.

Every answer is a trace: `AnswerGiven` carries everything needed to read it later without
the knowledge base (the passages given, as text), `AnswerScored` the automatic scorer's
verdict (re-runnable: a newer scorer version appends a newer score), `FeedbackGiven` a
person's rating and edit (the latest is current, the log keeps the history).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from contracts.base import Command, Event, Query, Reply
from contracts.expert import ShortText
from contracts.ingest import FileName
from contracts.rules import Count, Token, items, line, prose

AGGREGATE = "answer"

Mode = Literal["rag", "closed", "prompt_tuned"]
Kind = Literal["answer", "draft"]
BackendKind = Literal["local", "openai", "ollama"]

Question = prose(8000)
AnswerText = prose(60_000)
PassageText = prose(20_000)
Reason = line(500)
Sentence = line(1000)
Tag = line(60, min_length=1)
Url = line(500, min_length=1)
ApiKey = line(500)
MaxTokens = Annotated[int, Meta(ge=1, le=8192)]
Temperature = Annotated[float, Meta(ge=0.0, le=2.0)]
TopP = Annotated[float, Meta(gt=0.0, le=1.0)]
Rating = Annotated[int, Meta(ge=1, le=5)]
Seconds = Annotated[float, Meta(gt=0.0, le=600.0)]
Millis = Annotated[float, Meta(ge=0.0)]
Fraction = Annotated[float, Meta(ge=0.0, le=1.0)]
ScoreValue = Annotated[float, Meta(ge=0.0, le=10.0)]
MAX_SOURCES = 20
MAX_TURNS = 40
MAX_TAGS = 20


class Citation(msgspec.Struct, frozen=True, kw_only=True):
    """A numbered source as the answer cites it: `[n]` opens `filename` at `page`."""

    n: Annotated[int, Meta(ge=1, le=MAX_SOURCES)]
    document_id: Token
    filename: FileName
    page: Annotated[int, Meta(ge=1)]
    chunk_id: line(200, min_length=1)


class GivenSource(Citation, frozen=True, kw_only=True):
    """A passage the model was given, with its text, so a trace stands on its own."""

    text: PassageText


class Turn(msgspec.Struct, frozen=True, kw_only=True):
    """An earlier message of a conversation (the OpenAI-compatible API sends them)."""

    role: Literal["user", "assistant"]
    content: prose(20_000)


# ---- events --------------------------------------------------------------------------------


Support = Literal["supported", "unsupported", "not_a_claim", "unchecked"]
Origin = Literal["documents", "model"]
MAX_CLAIMS = 400
MAX_CLAIM_TEXT = 4000


class Claim(msgspec.Struct, frozen=True, kw_only=True):
    """One sentence of an answer as shown (citation markers left out) and what attribution
    after generation found: the numbers of the given passages that support it ("supported"),
    none ("unsupported"), not a claim (a question, a lead-in, a refusal, code), or
    "unchecked" (the embedder could not be reached while answering).
    `origin` is "documents" for a sentence quoted from a passage ahead of the model's text
    (see the expert's `quote_sources` setting), "model" for the model's own words."""

    text: prose(MAX_CLAIM_TEXT)
    citations: items(Annotated[int, Meta(ge=1, le=MAX_SOURCES)], MAX_SOURCES) = []
    support: Support = "not_a_claim"
    origin: Origin = "model"


class AnswerGiven(Event, frozen=True, kw_only=True, tag="expert.AnswerGiven"):
    answer_id: Token
    expert_id: Token
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


class AnswerScored(Event, frozen=True, kw_only=True, tag="expert.AnswerScored"):
    answer_id: Token
    expert_id: Token
    score: ScoreValue
    groundedness: Fraction | None = None
    citation_validity: Fraction | None = None
    sanity: Fraction = 1.0
    refusal: bool = False
    reasons: items(Sentence, 20) = []
    scorer_version: line(40, min_length=1)


class FeedbackGiven(Event, frozen=True, kw_only=True, tag="expert.FeedbackGiven"):
    answer_id: Token
    expert_id: Token
    rating: Rating
    edited_answer: AnswerText | None = None
    tags: items(Tag, MAX_TAGS) = []
    comment: prose(4000) = ""


AnswerEvent = AnswerGiven | AnswerScored | FeedbackGiven


class BackendConfigured(Event, frozen=True, kw_only=True, tag="expert.BackendConfigured"):
    """The expert's model backend. The API key travels sealed (runtime.secrets), never plain."""

    expert_id: Token
    kind: BackendKind
    base_url: Url | None = None
    model: ShortText | None = None
    api_key_sealed: line(2000) | None = None
    key_id: line(64) | None = None  # which secret key sealed it
    timeout_s: Seconds = 60.0


# ---- commands ------------------------------------------------------------------------------


class Ask(Command, frozen=True, kw_only=True, tag="expert.Ask"):
    """Answer a question. `stream_id` names the core subject the answer's frames go to while
    it is written (`answer.stream.<tenant>.<stream_id>`); the reply is the finished answer."""

    subject = "cmd.expert.ask"
    reply = "AnswerReply"

    expert_id: Token
    question: Question
    mode: Mode | None = None  # None: rag when the expert has documents, else closed
    kind: Kind = "answer"
    history: items(Turn, MAX_TURNS) = []
    max_tokens: MaxTokens | None = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    stop: items(line(100, min_length=1), 4) = []
    stream_id: Token | None = None
    # None: the expert's active version; "base": no adapter; an id: that version (a benchmark)
    adapter: Token | None = None
    # "benchmark": not recorded as a trace, and a person's questions go first
    purpose: Literal["person", "benchmark"] = "person"


class GiveFeedback(Command, frozen=True, kw_only=True, tag="expert.GiveFeedback"):
    subject = "cmd.expert.feedback"
    reply = "Accepted"

    answer_id: Token
    rating: Rating
    edited_answer: AnswerText | None = None
    tags: items(Tag, MAX_TAGS) = []
    comment: prose(4000) = ""


class ConfigureBackend(Command, frozen=True, kw_only=True, tag="expert.ConfigureBackend"):
    """Set the expert's backend. `api_key` None keeps the stored key (when the server is the
    same); "" removes it."""

    subject = "cmd.expert.configure_backend"
    reply = "Accepted"

    expert_id: Token
    kind: BackendKind
    base_url: Url | None = None
    model: ShortText | None = None
    api_key: ApiKey | None = None
    timeout_s: Seconds = 60.0


class RescoreAnswers(Command, frozen=True, kw_only=True, tag="expert.RescoreAnswers"):
    """Score again, with the current scorer, every answer of the expert scored by another."""

    subject = "cmd.expert.rescore"
    reply = "Rescored"

    expert_id: Token


# ---- queries -------------------------------------------------------------------------------


class GetAnswer(Query, frozen=True, kw_only=True, tag="expert.GetAnswer"):
    subject = "qry.expert.answer"
    reply = "TraceView"

    answer_id: Token


class ListTraces(Query, frozen=True, kw_only=True, tag="expert.ListTraces"):
    subject = "qry.expert.traces"
    reply = "TracePage"

    expert_id: Token
    mode: Mode | None = None
    kind: Kind | None = None
    rated: bool | None = None
    min_score: ScoreValue | None = None
    max_score: ScoreValue | None = None
    limit: Annotated[int, Meta(ge=1, le=200)] = 50
    after: line(100) | None = None  # cursor: the `next` of the previous page


class GetBackend(Query, frozen=True, kw_only=True, tag="expert.GetBackend"):
    subject = "qry.expert.backend"
    reply = "BackendView"

    expert_id: Token


class TestBackend(Query, frozen=True, kw_only=True, tag="expert.TestBackend"):
    subject = "qry.expert.test_backend"
    reply = "BackendTestResult"

    expert_id: Token


class GetPersona(Query, frozen=True, kw_only=True, tag="expert.GetPersona"):
    """The expert's style guide condensed into a system prompt of at most `budget` tokens
    (estimated), as its answers use it: what a training example's system message says."""

    subject = "qry.expert.persona"
    reply = "PersonaView"

    expert_id: Token
    budget: Annotated[int, Meta(ge=16, le=4000)] = 300


class ChatTurn(msgspec.Struct, frozen=True, kw_only=True):
    role: Literal["system", "user", "assistant"]
    content: prose(20_000)


class Complete(Query, frozen=True, kw_only=True, tag="expert.Complete"):
    """One completion from the expert's own model backend, nothing recorded: for the
    services that write with it (the dataset builder's questions)."""

    subject = "qry.expert.complete"
    reply = "Completion"

    expert_id: Token
    messages: Annotated[list[ChatTurn], Meta(min_length=1, max_length=MAX_TURNS)]
    max_tokens: MaxTokens = 256
    temperature: Temperature = 0.2


# ---- replies -------------------------------------------------------------------------------


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


def stream_subject(tenant: str, stream_id: str) -> str:
    return f"answer.stream.{tenant}.{stream_id}"


def cancel_subject(tenant: str, stream_id: str) -> str:
    return f"answer.cancel.{tenant}.{stream_id}"
