"""The answer aggregate's values: modes, bounded text types, citations and given passages."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from contracts.community.values import Semver
from contracts.ingest import FileName
from contracts.rules import Token, items, line, prose

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


class TemplateRef(msgspec.Struct, frozen=True, kw_only=True):
    """The template version an answer's system prompt was shaped by (the community context's
    template applied to the expert when it answered)."""

    template_id: Token
    version: Semver
