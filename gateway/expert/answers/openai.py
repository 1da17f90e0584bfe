"""The OpenAI-compatible API (`/v1/models`, `/v1/chat/completions`): any OpenAI SDK client
talks to an expert, `model` being the expert's id or exact name.

The conversation's last user message is the question, the turns before it its history; the
expert answers in its own voice and mode (RAG when it has documents; a `mode` field in the
body chooses another), so a client's own system message is not used. Errors come in
OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`. Streaming sends
`chat.completion.chunk`s, the last with `finish_reason` and `usage`, then `[DONE]`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import ServerSentEvent, ServerSentEventMessage
from msgspec import Meta

from contracts.answers import (
    MAX_TURNS,
    AnswerReply,
    Ask,
    MaxTokens,
    Mode,
    Temperature,
    TopP,
    Turn,
    Written,
)
from contracts.base import DomainError, ErrorCode
from contracts.expert import ExpertView, ListExperts
from gateway.backend import Backend
from gateway.expert.answers.live import answer_frames
from gateway.http.errors import (
    DESCRIPTIONS,
    RETRY_AFTER_S,
    OpenAIError,
    code_and_detail,
    with_reference,
)
from gateway.http.openapi import JSON, SSE, answering
from runtime.logs import get_logger

log = get_logger(__name__)

_json = msgspec.json.Encoder()
OWNER = "simtune"


class Message(msgspec.Struct, frozen=True, kw_only=True):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict] | None = None


class ChatRequest(msgspec.Struct, frozen=True, kw_only=True):
    model: Annotated[str, Meta(min_length=1, max_length=200)]
    messages: Annotated[list[Message], Meta(min_length=1, max_length=MAX_TURNS + 1)]
    temperature: Temperature | None = None
    top_p: TopP | None = None
    max_tokens: MaxTokens | None = None
    max_completion_tokens: MaxTokens | None = None
    stream: bool = False
    stop: str | Annotated[list[str], Meta(max_length=4)] | None = None
    mode: Mode | None = None  # Simtune's own: how the expert answers


def text_of(message: Message) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = message.content or []
    return "".join(p.get("text", "") for p in parts if p.get("type") == "text")


def ask_of(body: ChatRequest, expert_id: str) -> Ask:
    turns = [m for m in body.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise DomainError(ErrorCode.INVALID, "messages must end with a user message")
    stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    return Ask(
        expert_id=expert_id,
        question=text_of(turns[-1]),
        mode=body.mode,
        history=[Turn(role=m.role, content=text_of(m)) for m in turns[:-1]],
        max_tokens=body.max_completion_tokens or body.max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        stop=stop,
    )


async def find_expert(backend: Backend, model: str) -> ExpertView:
    experts = (await backend.ask(ListExperts())).experts
    for expert in experts:
        if expert.id == model:
            return expert
    named = [e for e in experts if e.name == model]
    if len(named) == 1:
        return named[0]
    detail = (
        f"several experts are named {model!r}; use the id"
        if named
        else f"there is no expert {model!r}; GET /v1/models lists them"
    )
    raise DomainError(ErrorCode.NOT_FOUND, detail)


def openai_error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the errors a `/v1` route documents."""
    return {
        status: ResponseSpec(
            data_container=OpenAIError, description=DESCRIPTIONS.get(status, "Error")
        )
        for status in statuses
    }


@get("/models", summary="The experts, as models", responses=openai_error_responses(503))
async def models(backend: Backend) -> dict:
    experts = (await backend.ask(ListExperts())).experts
    return {
        "object": "list",
        "data": [
            {
                "id": e.id,
                "object": "model",
                "created": epoch(e.created_at),
                "owned_by": OWNER,
                "name": e.name,
            }
            for e in experts
        ],
    }


@post(
    "/chat/completions",
    summary="Chat with an expert",
    description="Answers a `chat.completion`, or with `stream` its `chat.completion.chunk`s as"
    " Server-Sent Events.",
    status_code=200,
    responses=openai_error_responses(400, 404, 502, 503),
    operation_class=answering(JSON, SSE),
)
async def chat(data: ChatRequest, backend: Backend) -> Response | ServerSentEvent:
    expert = await find_expert(backend, data.model)
    frames = answer_frames(backend, ask_of(data, expert.id))
    completion_id, created = f"chatcmpl-{int(time.time() * 1000):x}", int(time.time())
    if not data.stream:
        async for item in frames:
            if isinstance(item, AnswerReply):
                return Response(completion(item, expert.id, created))
    first = await anext(frames)
    return ServerSentEvent(chunks(first, frames, completion_id, expert.id, created))


def completion(reply: AnswerReply, model: str, created: int) -> dict:
    return {
        "id": f"chatcmpl-{reply.answer_id}",
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.answer},
                "finish_reason": finish(reply),
            }
        ],
        "usage": usage(reply),
        "simtune": simtune_part(reply),
    }


async def chunks(
    first, rest: AsyncIterator, completion_id: str, model: str, created: int
) -> AsyncIterator[ServerSentEventMessage]:
    def chunk(delta: dict, finish_reason: str | None = None, **extra) -> ServerSentEventMessage:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            **extra,
        }
        return ServerSentEventMessage(data=_json.encode(body).decode())

    async def items():
        yield first
        async for item in rest:
            yield item

    yield chunk({"role": "assistant", "content": ""})
    try:
        async for item in items():
            if isinstance(item, Written):
                yield chunk({"content": item.text})
            elif isinstance(item, AnswerReply):
                yield chunk({}, finish(item), usage=usage(item), simtune=simtune_part(item))
    except DomainError as exc:
        body = error_body(exc.status, exc.code, with_reference(exc.detail))
        yield ServerSentEventMessage(data=_json.encode(body).decode())
    finally:
        await rest.aclose()
    yield ServerSentEventMessage(data="[DONE]")


def finish(reply: AnswerReply) -> str:
    return "length" if reply.finish_reason == "length" else "stop"


def usage(reply: AnswerReply) -> dict:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }


def simtune_part(reply: AnswerReply) -> dict:
    """What an OpenAI client may ignore: the answer's id (for feedback) and its citations."""
    return {
        "answer_id": reply.answer_id,
        "mode": reply.mode,
        "citations": [msgspec.structs.asdict(c) for c in reply.citations],
        "removed_citations": reply.removed_citations,
    }


def epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


# ---- errors in OpenAI's shape ------------------------------------------------------------

TYPES = {400: "invalid_request_error", 404: "invalid_request_error", 401: "authentication_error"}


def error_body(status: int, code: str, message: str) -> dict:
    kind = TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def openai_errors(request: Request, exc: Exception) -> Response:
    status, code, detail = code_and_detail(exc)
    if status >= 500:
        detail = with_reference(detail)
    if status == 500:
        log.error("http.failed", path=request.url.path, error=code, exc_info=exc)
    headers = {"Retry-After": str(RETRY_AFTER_S)} if code == ErrorCode.BUSY else None
    return Response(error_body(status, code, detail), status_code=status, headers=headers)


ROUTES = [
    Router(
        path="/v1",
        route_handlers=[models, chat],
        tags=["openai"],
        # Every type the app maps too, or the app's more specific handler would win.
        exception_handlers={
            DomainError: openai_errors,
            HTTPException: openai_errors,
            Exception: openai_errors,
        },
    )
]
