"""Any server that speaks OpenAI's chat-completions API: OpenAI, vLLM, llama.cpp, LM Studio,
Gemini's compatible endpoint.

The `openai` client does the protocol and retries 429s and 5xx twice with backoff; this module
turns what can go wrong into a sentence the person can act on, and never repeats the key (the
server's own error text is left out too: it may echo the key back).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import openai

from services.expert.llm.base import Adapter, BackendError, Finished, Message, Params, Piece
from services.expert.llm.remote import RemoteBackend

NO_KEY = "no-key"  # the client insists on a key; servers without auth ignore it


class OpenAICompatBackend(RemoteBackend):
    kind = "openai"

    def _client_for(self, base_url: str, api_key: str | None, timeout_s: float):
        return openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or NO_KEY, timeout=timeout_s, max_retries=2
        )

    async def _generate(
        self, messages: list[Message], params: Params, adapter: Adapter | None
    ) -> AsyncIterator[Piece | Finished]:
        parts: list[str] = []
        usage = None
        finish_reason = None
        try:
            chunks = await self._client.chat.completions.create(
                **self._request(messages, params, adapter),
                stream=True,
                stream_options={"include_usage": True},
            )
            async with chunks:
                async for chunk in chunks:
                    usage = chunk.usage or usage
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    finish_reason = choice.finish_reason or finish_reason
                    if choice.delta is not None and choice.delta.content:
                        parts.append(choice.delta.content)
                        yield Piece(choice.delta.content)
        except openai.OpenAIError as exc:
            raise self._error(exc) from None
        if usage is not None:
            prompt_tokens, completion_tokens = usage.prompt_tokens, usage.completion_tokens
        else:
            prompt_tokens = self.count_tokens(self.render_prompt(messages))
            completion_tokens = self.count_tokens("".join(parts))
        reason = "length" if finish_reason == "length" else "stop"
        yield Finished(prompt_tokens, completion_tokens, reason)

    async def check(self) -> float:
        started = time.perf_counter()
        try:
            await self._client.chat.completions.create(
                **self._request([{"role": "user", "content": "Hi"}], Params(1, 0.0))
            )
        except openai.OpenAIError as exc:
            raise self._error(exc) from None
        return (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        await self._client.close()

    def _request(
        self, messages: list[Message], params: Params, adapter: Adapter | None = None
    ) -> dict:
        served = adapter.served_model if adapter is not None else None
        request = {
            "model": served or self.model,
            "messages": messages,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.stop:
            request["stop"] = list(params.stop)
        return request

    def _error(self, exc: openai.OpenAIError) -> BackendError:
        if isinstance(exc, openai.APITimeoutError):
            return self.timed_out()
        if isinstance(exc, openai.APIConnectionError):
            return self.unreachable()
        if isinstance(exc, openai.APIStatusError):
            # The client has already retried 5xx; only a 429 (its RateLimitError) is "busy".
            return self.refused(
                exc.status_code, exc.response.headers.get("retry-after"), busy=(429,)
            )
        return self.unreadable()
