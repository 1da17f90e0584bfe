"""The commands and queries the expert service serves for answers and its model backend."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from contracts.answers.values import (
    MAX_TAGS,
    MAX_TURNS,
    AnswerText,
    ApiKey,
    BackendKind,
    Kind,
    MaxTokens,
    Mode,
    Question,
    Rating,
    ScoreValue,
    Seconds,
    Tag,
    Temperature,
    TopP,
    Turn,
    Url,
)
from contracts.base import Command, Query
from contracts.expert import ShortText
from contracts.rules import Token, items, line, prose
from contracts.scoped import ExpertCommand, ExpertQuery


class Ask(ExpertCommand, frozen=True, kw_only=True, tag="expert.Ask"):
    """Answer a question. `stream_id` names the core subject the answer's frames go to while
    it is written (`answer.stream.<tenant>.<stream_id>`); the reply is the finished answer."""

    subject = "cmd.expert.ask"
    reply = "AnswerReply"

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

    answer_id: Token
    rating: Rating
    edited_answer: AnswerText | None = None
    tags: items(Tag, MAX_TAGS) = []
    comment: prose(4000) = ""


class ConfigureBackend(ExpertCommand, frozen=True, kw_only=True, tag="expert.ConfigureBackend"):
    """Set the expert's backend. `api_key` None keeps the stored key (when the server is the
    same); "" removes it."""

    subject = "cmd.expert.configure_backend"

    kind: BackendKind
    base_url: Url | None = None
    model: ShortText | None = None
    api_key: ApiKey | None = None
    timeout_s: Seconds = 60.0


class RescoreAnswers(ExpertCommand, frozen=True, kw_only=True, tag="expert.RescoreAnswers"):
    """Score again, with the current scorer, every answer of the expert scored by another."""

    subject = "cmd.expert.rescore"
    reply = "Rescored"


# ---- queries -------------------------------------------------------------------------------


class GetAnswer(Query, frozen=True, kw_only=True, tag="expert.GetAnswer"):
    subject = "qry.expert.answer"
    reply = "TraceView"

    answer_id: Token


class ListTraces(ExpertQuery, frozen=True, kw_only=True, tag="expert.ListTraces"):
    subject = "qry.expert.traces"
    reply = "TracePage"

    mode: Mode | None = None
    kind: Kind | None = None
    rated: bool | None = None
    min_score: ScoreValue | None = None
    max_score: ScoreValue | None = None
    limit: Annotated[int, Meta(ge=1, le=200)] = 50
    after: line(100) | None = None  # cursor: the `next` of the previous page


class GetBackend(ExpertQuery, frozen=True, kw_only=True, tag="expert.GetBackend"):
    subject = "qry.expert.backend"
    reply = "BackendView"


class TestBackend(ExpertQuery, frozen=True, kw_only=True, tag="expert.TestBackend"):
    subject = "qry.expert.test_backend"
    reply = "BackendTestResult"


class GetPersona(ExpertQuery, frozen=True, kw_only=True, tag="expert.GetPersona"):
    """The expert's style guide condensed into a system prompt of at most `budget` tokens
    (estimated), as its answers use it: what a training example's system message says."""

    subject = "qry.expert.persona"
    reply = "PersonaView"

    budget: Annotated[int, Meta(ge=16, le=4000)] = 300


class ChatTurn(msgspec.Struct, frozen=True, kw_only=True):
    role: Literal["system", "user", "assistant"]
    content: prose(20_000)


class Complete(ExpertQuery, frozen=True, kw_only=True, tag="expert.Complete"):
    """One completion from the expert's own model backend, nothing recorded: for the
    services that write with it (the dataset builder's questions)."""

    subject = "qry.expert.complete"
    reply = "Completion"

    messages: Annotated[list[ChatTurn], Meta(min_length=1, max_length=MAX_TURNS)]
    max_tokens: MaxTokens = 256
    temperature: Temperature = 0.2
