"""The OpenAI-compatible and Ollama backends against small servers started in the test.

Each fake server is a raw ASGI app under uvicorn on a free port: it speaks just enough of the
real protocol (SSE chat-completion chunks ending in `[DONE]`; Ollama's NDJSON lines), records
what it was sent, checks the bearer key, and can be told to dawdle past the client's timeout.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from services.expert.llm import (
    Adapter,
    BackendConfig,
    BackendError,
    Finished,
    Params,
    Piece,
    make_backend,
)
from tests.support.scripted_llm import (
    completion,
    free_port,
    read_json,
    respond,
    send_part,
    serving,
    start_stream,
    usage_of,
)

pytestmark = pytest.mark.integration

KEY = "sk-test-4f9a1c"
MODEL = "tiny-chat"
SLOW_MODEL = "slow-chat"  # the servers sleep past the client's timeout for this one
BARE_MODEL = "bare-chat"  # the OpenAI server sends no usage for this one
FINE_TUNED = "ft:tiny-chat:acme:7"  # a hosted fine-tune of MODEL
WORDS = ["Paris", " is", " the", " capital", "."]
QUESTION = [
    {"role": "system", "content": "Answer briefly."},
    {"role": "user", "content": "What is the capital of France?"},
]
PARAMS = Params(max_tokens=32, temperature=0.2, top_p=0.9, stop=("\n\n",))


class FakeServer:
    """An ASGI app of HTTP requests that records each request it reads (`requests`) and
    dawdles past the client's timeout for SLOW_MODEL."""

    def __init__(self):
        self.requests: list[dict] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            await self.serve(scope, receive, send)

    async def serve(self, scope, receive, send) -> None:
        raise NotImplementedError

    async def request(self, receive) -> dict:
        request = await read_json(receive)
        self.requests.append(request)
        if request["model"] == SLOW_MODEL:
            await asyncio.sleep(1.5)
        return request


class FakeOpenAI(FakeServer):
    """POST /v1/chat/completions, streaming (SSE) or not."""

    async def serve(self, scope, receive, send):
        headers = dict(scope["headers"])
        if scope["path"] != "/v1/chat/completions":
            return await respond(send, 404, b'{"error": {"message": "no such route"}}')
        if headers.get(b"authorization") != f"Bearer {KEY}".encode():
            sent = headers.get(b"authorization", b"").decode()
            error = {
                "error": {
                    "message": f"Incorrect API key provided: {sent}",
                    "code": "invalid_api_key",
                }
            }
            return await respond(send, 401, json.dumps(error).encode())
        request = await self.request(receive)
        if request["model"] not in (MODEL, SLOW_MODEL, BARE_MODEL, FINE_TUNED):
            error = {"error": {"message": f"The model `{request['model']}` does not exist"}}
            return await respond(send, 404, json.dumps(error).encode())
        words = WORDS[: request.get("max_tokens", 99)]
        finish = "length" if len(words) < len(WORDS) else "stop"
        usage = usage_of(21, len(words))
        if not request.get("stream"):
            answer = completion("c1", request["model"], "".join(words), finish, usage)
            return await respond(send, 200, json.dumps(answer).encode())
        await start_stream(send)

        async def event(choices, usage=None):
            chunk = {
                "id": "c1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": request["model"],
                "choices": choices,
                "usage": usage,
            }
            await send_part(send, f"data: {json.dumps(chunk)}\n\n".encode())

        await event(
            [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]
        )
        for word in words:
            await event([{"index": 0, "delta": {"content": word}, "finish_reason": None}])
        await event([{"index": 0, "delta": {}, "finish_reason": finish}])
        wants_usage = (request.get("stream_options") or {}).get("include_usage")
        if wants_usage and request["model"] != BARE_MODEL:
            await event([], usage)
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


class FakeOllama(FakeServer):
    """POST /api/chat, NDJSON when streaming."""

    async def serve(self, scope, receive, send):
        if scope["path"] != "/api/chat":
            return await respond(send, 404, b"404 page not found", "text/plain")
        request = await self.request(receive)
        if request["model"] not in (MODEL, SLOW_MODEL):
            return await respond(
                send, 404, json.dumps({"error": f"model '{request['model']}' not found"}).encode()
            )
        words = WORDS[: request["options"].get("num_predict", 99)]
        final = {
            "model": MODEL,
            "done": True,
            "done_reason": "length" if len(words) < len(WORDS) else "stop",
            "message": {"role": "assistant", "content": ""},
            "prompt_eval_count": 26,
            "eval_count": len(words),
        }
        if not request.get("stream", True):
            final["message"]["content"] = "".join(words)
            return await respond(send, 200, json.dumps(final).encode())
        await start_stream(send, "application/x-ndjson")
        for word in words:
            line = {
                "model": MODEL,
                "message": {"role": "assistant", "content": word},
                "done": False,
            }
            await send_part(send, (json.dumps(line) + "\n").encode())
        await send({"type": "http.response.body", "body": (json.dumps(final) + "\n").encode()})


@pytest.fixture(scope="module")
async def openai_server():
    fake = FakeOpenAI()
    async with serving(fake) as url:
        yield fake, f"{url}/v1"


@pytest.fixture(scope="module")
async def ollama_server():
    fake = FakeOllama()
    async with serving(fake) as url:
        yield fake, url


@asynccontextmanager
async def backend_for(kind: str, base_url: str, **config):
    backend = make_backend(
        BackendConfig(kind=kind, base_url=base_url, **{"model": MODEL, **config}), local=None
    )
    try:
        yield backend
    finally:
        await backend.close()


async def collect(stream) -> tuple[list[str], Finished]:
    items = [item async for item in stream]
    assert all(isinstance(item, Piece) for item in items[:-1])
    assert isinstance(items[-1], Finished)
    return [item.text for item in items[:-1]], items[-1]


async def error_of(stream) -> BackendError:
    with pytest.raises(BackendError) as caught:
        await collect(stream)
    return caught.value


# -- OpenAI-compatible -----------------------------------------------------------------------


async def test_openai_streams_pieces_with_the_servers_usage(openai_server):
    fake, url = openai_server
    async with backend_for("openai", url, api_key=KEY) as backend:
        pieces, finished = await collect(backend.stream(QUESTION, PARAMS))

    assert pieces == WORDS
    assert finished == Finished(21, 5, "stop")
    sent = fake.requests[-1]
    assert sent["model"] == MODEL and sent["messages"] == QUESTION
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert (sent["max_tokens"], sent["temperature"], sent["top_p"]) == (32, 0.2, 0.9)
    assert sent["stop"] == ["\n\n"]


async def test_openai_answers_with_a_hosted_fine_tune_under_its_own_model_name(openai_server):
    fake, url = openai_server
    hosted = Adapter("a1", Path("."), served_model=FINE_TUNED)
    async with backend_for("openai", url, api_key=KEY) as backend:
        pieces, _ = await collect(backend.stream(QUESTION, PARAMS, adapter=hosted))
        assert pieces == WORDS and fake.requests[-1]["model"] == FINE_TUNED
        await collect(backend.stream(QUESTION, PARAMS))  # back to the base model
    assert fake.requests[-1]["model"] == MODEL


async def test_openai_reports_a_cut_off_answer_and_counts_when_the_server_does_not(openai_server):
    _, url = openai_server
    async with backend_for("openai", url, api_key=KEY, model=BARE_MODEL) as backend:
        pieces, finished = await collect(backend.stream(QUESTION, Params(max_tokens=2)))

    assert pieces == WORDS[:2]
    assert finished.finish_reason == "length"
    assert finished.completion_tokens == backend.count_tokens("Paris is") == 2
    assert finished.prompt_tokens == backend.count_tokens(backend.render_prompt(QUESTION)) > 0


async def test_openai_check_is_a_one_token_request(openai_server):
    fake, url = openai_server
    async with backend_for("openai", url, api_key=KEY) as backend:
        latency_ms = await backend.check()

    assert 0 < latency_ms < 5000
    assert fake.requests[-1]["max_tokens"] == 1 and not fake.requests[-1].get("stream")


async def test_openai_wrong_key_is_refused_without_repeating_it(openai_server):
    _, url = openai_server
    async with backend_for("openai", url, api_key="sk-wrong-77") as backend:
        error = await error_of(backend.stream(QUESTION, PARAMS))
        with pytest.raises(BackendError) as checked:
            await backend.check()

    assert error.reason == checked.value.reason == "auth"
    assert "refused the API key" in error.sentence and "127.0.0.1" in error.sentence
    assert "sk-wrong-77" not in str(error) and "sk-wrong-77" not in repr(error.__cause__)


async def test_openai_unknown_model_is_named(openai_server):
    _, url = openai_server
    async with backend_for("openai", url, api_key=KEY, model="gpt-nope") as backend:
        error = await error_of(backend.stream(QUESTION, PARAMS))
    assert error.reason == "not_found" and "gpt-nope" in error.sentence


async def test_openai_unreachable_server():
    async with backend_for("openai", f"http://127.0.0.1:{free_port()}/v1", api_key=KEY) as backend:
        error = await error_of(backend.stream(QUESTION, PARAMS))
    assert error.reason == "unreachable" and "could not reach 127.0.0.1" in error.sentence


async def test_openai_slow_server_times_out(openai_server):
    _, url = openai_server
    async with backend_for("openai", url, api_key=KEY, model=SLOW_MODEL, timeout_s=0.5) as backend:
        error = await error_of(backend.stream(QUESTION, PARAMS))
    assert error.reason == "timeout" and "within 0.5 s" in error.sentence


# -- Ollama ----------------------------------------------------------------------------------


async def test_ollama_streams_ndjson_with_its_token_counts(ollama_server):
    fake, url = ollama_server
    async with backend_for("ollama", url) as backend:
        pieces, finished = await collect(backend.stream(QUESTION, PARAMS))

    assert pieces == WORDS
    assert finished == Finished(26, 5, "stop")
    sent = fake.requests[-1]
    assert sent["model"] == MODEL and sent["messages"] == QUESTION and sent["stream"] is True
    assert sent["options"] == {
        "temperature": 0.2,
        "top_p": 0.9,
        "num_predict": 32,
        "stop": ["\n\n"],
    }


async def test_ollama_cut_off_answer_and_check(ollama_server):
    fake, url = ollama_server
    async with backend_for("ollama", url) as backend:
        pieces, finished = await collect(backend.stream(QUESTION, Params(max_tokens=3)))
        latency_ms = await backend.check()

    assert pieces == WORDS[:3] and finished.finish_reason == "length"
    assert 0 < latency_ms < 5000
    assert fake.requests[-1]["stream"] is False and fake.requests[-1]["options"]["num_predict"] == 1


async def test_ollama_errors_read_like_the_openai_ones(ollama_server):
    _, url = ollama_server
    async with backend_for("ollama", url, model="llama-nope") as backend:
        missing = await error_of(backend.stream(QUESTION, PARAMS))
    async with backend_for("ollama", url, model=SLOW_MODEL, timeout_s=0.5) as backend:
        slow = await error_of(backend.stream(QUESTION, PARAMS))
    async with backend_for("ollama", f"http://127.0.0.1:{free_port()}") as backend:
        gone = await error_of(backend.stream(QUESTION, PARAMS))

    assert missing.reason == "not_found" and "llama-nope" in missing.sentence
    assert slow.reason == "timeout" and "within 0.5 s" in slow.sentence
    assert gone.reason == "unreachable"


def test_a_remote_backend_needs_a_model_name():
    with pytest.raises(BackendError) as caught:
        make_backend(BackendConfig(kind="openai", base_url="http://127.0.0.1:1/v1"), local=None)
    assert caught.value.reason == "not_found"
