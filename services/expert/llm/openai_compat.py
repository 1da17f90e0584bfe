"""Any server that speaks OpenAI's chat-completions API: OpenAI, vLLM, llama.cpp, LM Studio,
Gemini's compatible endpoint.

The `openai` client does the protocol and retries 429s and 5xx twice with backoff; this module
turns what can go wrong into a sentence the person can act on, and never repeats the key (the
server's own error text is left out too: it may echo the key back).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import openai

from services.expert.llm.base import (
    Adapter,
    BackendBusy,
    BackendError,
    Finished,
    Message,
    Params,
    Piece,
    approx_tokens,
    retry_after_s,
    validate,
)
from services.expert.llm.remote import DEFAULT_CONTEXT_TOKENS, RemoteBackend

NO_KEY = "no-key"  # the client insists on a key; servers without auth ignore it


class OpenAICompatBackend(RemoteBackend):
    kind = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        context_tokens: int = DEFAULT_CONTEXT_TOKENS,
    ):
        super().__init__(base_url, model, timeout_s=timeout_s, context_tokens=context_tokens)
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or NO_KEY, timeout=timeout_s, max_retries=2
        )

    async def stream(
        self,
        messages: list[Message],
        params: Params,
        *,
        adapter: Adapter | None = None,
        on_wait: Callable[[int], None] | None = None,
    ) -> AsyncIterator[Piece | Finished]:
        validate(messages, params)
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
            prompt_tokens = approx_tokens(self.render_prompt(messages))
            completion_tokens = approx_tokens("".join(parts))
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
        host = self.host
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return BackendError(
                "auth",
                f"The server at {host} refused the API key; check it in the expert's backend settings.",
            )
        if isinstance(exc, openai.APITimeoutError):
            return BackendError(
                "timeout", f"The server at {host} did not answer within {self.timeout_s:g} s."
            )
        if isinstance(exc, openai.APIConnectionError):
            return BackendError(
                "unreachable", f"Simtune could not reach {host}; is the server running?"
            )
        if isinstance(exc, openai.NotFoundError):
            return BackendError(
                "not_found", f"The server at {host} has no model named {self.model}."
            )
        if isinstance(exc, openai.RateLimitError):
            wait_s = retry_after_s(exc.response.headers.get("retry-after"))
            return BackendBusy(
                f"The server at {host} is busy; try again in about {wait_s} seconds.", wait_s
            )
        if isinstance(exc, openai.APIStatusError):
            return BackendError(
                "bad_response",
                f"The server at {host} answered with an error (HTTP {exc.status_code}); "
                "check the expert's backend settings or try again later.",
            )
        return BackendError(
            "bad_response", f"The server at {host} sent an answer Simtune could not read."
        )
