"""What the remote backends (OpenAI-compatible, Ollama) share: where the server is, how long
to wait for it, and token counts estimated without the server's tokenizer."""

from __future__ import annotations

from services.expert.llm.base import Message, approx_tokens, host_of, plain_prompt

DEFAULT_CONTEXT_TOKENS = 8192


class RemoteBackend:
    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        timeout_s: float = 60.0,
        context_tokens: int = DEFAULT_CONTEXT_TOKENS,
    ):
        self.model = model
        self.host = host_of(base_url)
        self.timeout_s = timeout_s
        self._context_tokens = context_tokens

    def count_tokens(self, text: str) -> int:
        return approx_tokens(text)

    def context_tokens(self) -> int:
        return self._context_tokens

    def render_prompt(self, messages: list[Message]) -> str:
        return plain_prompt(messages)
