"""A model server whose answers a test decides: it speaks the OpenAI chat-completions API
(SSE streaming and plain), checks a bearer key, records every request, and answers with
`reply(messages)` — so an end-to-end test can make the "model" cite a source it was given,
invent one, stall past a timeout, or be down for a while (`fail_next`).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import uvicorn

Reply = Callable[[list[dict]], str]
SOURCE = re.compile(r"^\[(\d+)\] \(([^,]+), page (\d+)\)", re.MULTILINE)


def cite_the_source_containing(word: str, invented: int = 7) -> Reply:
    """A reply restating the sentence that holds `word`, citing its numbered source, then a
    sentence of its own with a made-up [n]: "<sentence> [2]. It is well known [7]." """

    def reply(messages: list[dict]) -> str:
        prompt = messages[-1]["content"]
        blocks = list(SOURCE.finditer(prompt))
        for i, block in enumerate(blocks):
            end = blocks[i + 1].start() if i + 1 < len(blocks) else len(prompt)
            passage = prompt[block.end() : end]
            if word.lower() in passage.lower():
                said = next(s for s in re.split(r"(?<=\.)\s+", passage) if word in s)
                said = " ".join(said.split()).rstrip(".")
                return f"{said} [{block.group(1)}]. It is well known [{invented}]."
        return "The sources do not say."

    return reply


class ScriptedLLM:
    def __init__(
        self, key: str, reply: Reply, *, delay_s: float = 0.0, word_delay_s: float = 0.0
    ) -> None:
        self.key, self.reply, self.delay_s, self.word_delay_s = key, reply, delay_s, word_delay_s
        self.requests: list[dict] = []
        self.words_sent = 0  # of streamed answers, across requests
        self.replied = 0  # answers begun (after `delay_s`), streamed or whole
        self.hung_up = 0  # streamed answers whose client closed the connection before the end
        self.fail_next = 0  # answer this many requests with 503 "overloaded" (an outage)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        if headers.get(b"authorization") != f"Bearer {self.key}".encode():
            error = {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
            return await respond(send, 401, json.dumps(error).encode())
        request = await read_json(receive)
        self.requests.append(request)
        if self.fail_next > 0:
            self.fail_next -= 1
            error = {"error": {"message": "The server is overloaded", "type": "server_error"}}
            return await respond(send, 503, json.dumps(error).encode())
        await asyncio.sleep(self.delay_s)
        self.replied += 1
        words = re.findall(r"\S+\s*", self.reply(request["messages"]))
        usage = usage_of(40, len(words))
        if not request.get("stream"):
            answer = completion("cmpl-1", request["model"], "".join(words), "stop", usage)
            return await respond(send, 200, json.dumps(answer).encode())
        await start_stream(send)
        gone = asyncio.Event()  # the client closed the connection: stop writing, as servers do

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.create_task(watch())
        chunks = [{"content": w} for w in words] + [{}]
        for n, delta in enumerate(chunks):
            if gone.is_set():
                self.hung_up += 1
                return
            chunk = {
                "id": "cmpl-1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": request["model"],
                "choices": [
                    {"index": 0, "delta": delta, "finish_reason": "stop" if not delta else None}
                ],
            }
            if n == len(chunks) - 1:
                chunk["usage"] = usage
            await send_part(send, f"data: {json.dumps(chunk)}\n\n".encode())
            self.words_sent += 1
            await asyncio.sleep(self.word_delay_s)
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
        watcher.cancel()


def usage_of(prompt_tokens: int, completion_tokens: int) -> dict:
    """A chat completion's `usage`."""
    total = prompt_tokens + completion_tokens
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": total,
    }


def completion(id: str, model: str, content: str, finish: str, usage: dict) -> dict:
    """A whole (not streamed) chat-completion answer."""
    message = {"role": "assistant", "content": content}
    return {
        "id": id,
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


async def start_stream(send, content_type: str = "text/event-stream") -> None:
    """The start of an answer sent in parts (SSE events unless said otherwise); `send_part`
    sends each."""
    headers = [(b"content-type", content_type.encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})


async def send_part(send, body: bytes) -> None:
    """One part of a streamed answer, more to follow."""
    await send({"type": "http.response.body", "body": body, "more_body": True})


async def read_body(receive) -> bytes:
    """The whole request body of an ASGI app."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def read_json(receive) -> dict:
    """The request body of an ASGI app, as JSON."""
    return json.loads(await read_body(receive))


async def respond(send, status: int, body: bytes, content_type: str = "application/json") -> None:
    """A whole ASGI response."""
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type.encode())],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def serving(app) -> AsyncIterator[str]:
    """Serve an ASGI app on a free port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def scripted_model(
    key: str, reply: Reply, *, word_delay_s: float = 0.0
) -> AsyncIterator[ScriptedLLM]:
    """A scripted model served on a free port; its `url` is the base URL an expert's backend
    settings take (`.../v1`)."""
    llm = ScriptedLLM(key, reply, word_delay_s=word_delay_s)
    async with serving(llm) as url:
        llm.url = f"{url}/v1"
        yield llm
