"""Ollama's native chat API (`POST /api/chat`, newline-delimited JSON when streaming).

Ollama also speaks the OpenAI API, but its native one reports exact token counts and takes
`num_predict`, and it is what a default Ollama install is known to serve. Errors read the same
as the OpenAI-compatible backend's (`remote.py` words them).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx

from services.expert.llm.base import Adapter, BackendError, Finished, Message, Params, Piece
from services.expert.llm.remote import RemoteBackend


class OllamaBackend(RemoteBackend):
    kind = "ollama"

    def _client_for(self, base_url: str, api_key: str | None, timeout_s: float):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s)

    async def _generate(
        self, messages: list[Message], params: Params, adapter: Adapter | None
    ) -> AsyncIterator[Piece | Finished]:
        parts: list[str] = []
        try:
            async with self._client.stream(
                "POST", "/api/chat", json=self._request(messages, params, stream=True)
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise self._status_error(response)
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue
                    message = self._parse(line)
                    text = (message.get("message") or {}).get("content") or ""
                    if text:
                        parts.append(text)
                        yield Piece(text)
                    if message.get("done"):
                        yield self._finished(message, messages, "".join(parts))
                        return
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        raise BackendError(
            "bad_response", f"The server at {self.host} stopped before finishing the answer."
        )

    async def check(self) -> float:
        started = time.perf_counter()
        request = self._request([{"role": "user", "content": "Hi"}], Params(1, 0.0), stream=False)
        try:
            response = await self._client.post("/api/chat", json=request)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if response.status_code != 200:
            raise self._status_error(response)
        self._parse(response.text)
        return (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        await self._client.aclose()

    def _request(self, messages: list[Message], params: Params, *, stream: bool) -> dict:
        options = {
            "temperature": params.temperature,
            "top_p": params.top_p,
            "num_predict": params.max_tokens,
        }
        if params.stop:
            options["stop"] = list(params.stop)
        return {"model": self.model, "messages": messages, "stream": stream, "options": options}

    def _finished(self, final: dict, messages: list[Message], text: str) -> Finished:
        prompt_tokens = final.get("prompt_eval_count")
        completion_tokens = final.get("eval_count")
        return Finished(
            prompt_tokens
            if isinstance(prompt_tokens, int)
            else self.count_tokens(self.render_prompt(messages)),
            completion_tokens if isinstance(completion_tokens, int) else self.count_tokens(text),
            "length" if final.get("done_reason") == "length" else "stop",
        )

    def _parse(self, line: str) -> dict:
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            raise self.unreadable()
        if "error" in message:
            raise BackendError(
                "model", f"The model {self.model} at {self.host} failed while answering."
            )
        return message

    def _status_error(self, response: httpx.Response) -> BackendError:
        return self.refused(response.status_code, response.headers.get("retry-after"))

    def _transport_error(self, exc: httpx.HTTPError) -> BackendError:
        if isinstance(exc, httpx.TimeoutException):
            return self.timed_out()
        return self.unreachable()
