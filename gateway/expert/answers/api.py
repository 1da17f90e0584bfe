"""Answers, drafts, feedback, traces and the expert's model backend (`/api/...`).

`POST .../ask` and `.../drafts` answer JSON, or stream with `Accept: text/event-stream`:
`queued` {position} while waiting for the model, `sources` {sources} (the numbered
passages), `token` {text} for each piece, then `done` with the whole answer (its citations
checked) — or `error` {error, detail} if the model failed midway. A refusal before anything
was written (unknown expert, full queue: 503 with Retry-After, a failing model server: 502)
is an ordinary HTTP error, not a stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import msgspec
from litestar import Request, Response, get, post, put
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from msgspec import Meta

from contracts.answers import (
    MAX_TAGS,
    AnswerReply,
    AnswerText,
    ApiKey,
    Ask,
    BackendKind,
    BackendView,
    ConfigureBackend,
    Frame,
    GetAnswer,
    GetBackend,
    GiveFeedback,
    ListTraces,
    MaxTokens,
    Mode,
    Question,
    Rating,
    RescoreAnswers,
    Seconds,
    Tag,
    TestBackend,
    TracePage,
    Url,
)
from contracts.base import DomainError
from contracts.expert import ShortText
from contracts.rules import items, prose
from gateway.backend import Backend
from gateway.expert.answers.live import answer_frames
from gateway.http.errors import error_responses
from gateway.http.fields import fields_from
from gateway.http.routes import one_message

_json = msgspec.json.Encoder()
RESCORE_TIMEOUT_S = 600.0  # every answer of the expert scored again
TEST_TIMEOUT_S = 120.0  # a one-token request to a model server that may be loading


class AskBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    question: Annotated[Question, Meta(min_length=1)]
    mode: Mode | None = None
    max_tokens: MaxTokens | None = None


class DraftBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    prompt: Annotated[Question, Meta(min_length=1)]
    max_tokens: MaxTokens | None = None


class FeedbackBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    rating: Rating
    edited_answer: AnswerText | None = None
    tags: items(Tag, MAX_TAGS) = []
    comment: prose(4000) = ""


def wants_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


async def respond(request: Request, backend: Backend, cmd: Ask) -> Response | ServerSentEvent:
    frames = answer_frames(backend, cmd)
    if not wants_stream(request):
        async for item in frames:
            if isinstance(item, AnswerReply):
                return Response(item)
    first = await anext(frames)  # a refusal to start raises here: an HTTP error, not a stream
    return ServerSentEvent(sse(first, frames))


async def sse(
    first: Frame | AnswerReply, rest: AsyncIterator[Frame | AnswerReply]
) -> AsyncIterator[ServerSentEventMessage]:
    try:
        yield message(first)
        async for item in rest:
            yield message(item)
    except DomainError as exc:
        body = {"error": exc.code, "detail": exc.detail}
        yield ServerSentEventMessage(event="error", data=_json.encode(body).decode())
    finally:
        await rest.aclose()


def message(item: Frame | AnswerReply) -> ServerSentEventMessage:
    if isinstance(item, AnswerReply):
        return ServerSentEventMessage(event="done", data=_json.encode(item).decode())
    event = type(item).__struct_config__.tag
    body = {f: getattr(item, f) for f in item.__struct_fields__}
    return ServerSentEventMessage(event=event, data=_json.encode(body).decode())


ASK_ERRORS = error_responses(400, 404, 502, 503)


@post(
    "/api/experts/{expert_id:str}/ask",
    summary="Ask an expert (JSON, or SSE with Accept: text/event-stream)",
    status_code=200,
    responses=ASK_ERRORS,
)
async def ask(
    expert_id: str, data: AskBody, request: Request, backend: Backend
) -> Response[AnswerReply]:
    cmd = Ask(
        expert_id=expert_id, question=data.question, mode=data.mode, max_tokens=data.max_tokens
    )
    return await respond(request, backend, cmd)


@post(
    "/api/experts/{expert_id:str}/drafts",
    summary="A draft in the expert's voice (JSON, or SSE with Accept: text/event-stream)",
    status_code=200,
    responses=ASK_ERRORS,
)
async def draft(
    expert_id: str, data: DraftBody, request: Request, backend: Backend
) -> Response[AnswerReply]:
    cmd = Ask(expert_id=expert_id, question=data.prompt, kind="draft", max_tokens=data.max_tokens)
    return await respond(request, backend, cmd)


feedback = one_message(
    post,
    "/api/answers/{answer_id:str}/feedback",
    GiveFeedback,
    name="feedback",
    body=FeedbackBody,
    then=GetAnswer,
    summary="Rate an answer, edit it, tag it, comment on it",
    status_code=201,
    responses=error_responses(400, 404),
)


answer = one_message(
    get,
    "/api/answers/{answer_id:str}",
    GetAnswer,
    name="answer",
    summary="One answer with its sources, score and feedback",
    responses=error_responses(404),
)


@get(
    "/api/experts/{expert_id:str}/traces",
    summary="An expert's answers with their scores and feedback, newest first",
    description="Pages: pass the `next` of a page (also in `X-Next-Cursor`) as `after`.",
    responses=error_responses(400, 404),
)
async def traces(
    expert_id: str,
    backend: Backend,
    mode: Mode | None = Parameter(default=None, description="rag, closed or prompt_tuned"),
    kind: str | None = Parameter(default=None, description="answer or draft"),
    rated: bool | None = Parameter(default=None, description="only rated (true) or unrated"),
    min_score: float | None = Parameter(default=None, ge=0, le=10),
    max_score: float | None = Parameter(default=None, ge=0, le=10),
    limit: int = Parameter(default=50, ge=1, le=200),
    after: str | None = Parameter(default=None, description="the `next` of the previous page"),
) -> Response[TracePage]:
    query = fields_from(ListTraces, locals())  # the route's parameters named as its fields
    page = await backend.ask(query)
    headers = {"X-Next-Cursor": page.next} if page.next else {}
    return Response(page, headers=headers)


rescore = one_message(
    post,
    "/api/experts/{expert_id:str}/traces/rescore",
    RescoreAnswers,
    name="rescore",
    timeout=RESCORE_TIMEOUT_S,
    summary="Score the expert's answers again with the current scorer",
    status_code=200,
    responses=error_responses(404),
)


class BackendBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: BackendKind
    base_url: Url | None = None
    model: ShortText | None = None
    api_key: ApiKey | None = None
    timeout_s: Seconds = 60.0


get_backend = one_message(
    get,
    "/api/experts/{expert_id:str}/backend",
    GetBackend,
    name="get_backend",
    summary="The expert's model backend (the API key is never returned)",
    responses=error_responses(404),
)


@put(
    "/api/experts/{expert_id:str}/backend",
    summary="Choose the expert's model backend",
    description='Leave `api_key` out to keep the stored key (same server); send "" to remove it.',
    responses=error_responses(400, 404),
)
async def set_backend(expert_id: str, data: BackendBody, backend: Backend) -> BackendView:
    cmd = ConfigureBackend(expert_id=expert_id, **msgspec.structs.asdict(data))
    return await backend.send(cmd, then=GetBackend(expert_id=expert_id))


test_backend = one_message(
    post,
    "/api/experts/{expert_id:str}/backend/test",
    TestBackend,
    name="test_backend",
    timeout=TEST_TIMEOUT_S,
    summary="Try the expert's backend with a one-token request",
    status_code=200,
    responses=error_responses(404),
)


ROUTES = [ask, draft, feedback, answer, traces, rescore, get_backend, set_backend, test_backend]
