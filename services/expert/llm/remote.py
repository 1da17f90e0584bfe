"""What the remote backends (OpenAI-compatible, Ollama) share: where the server is, how long
to wait for it, the checks every request passes before it leaves, token counts estimated
without the server's tokenizer, and the sentences a person reads when the server fails.

A subclass says how it connects (`_client_for`), how it streams one answer (`_generate`),
and how it checks that the server answers (`check`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator

from services.expert.llm.base import (
    Adapter,
    Backend,
    BackendBusy,
    BackendError,
    Finished,
    Message,
    Params,
    Piece,
    approx_tokens,
    host_of,
    plain_prompt,
    retry_after_s,
)

DEFAULT_CONTEXT_TOKENS = 8192


class RemoteBackend(Backend):
    kind: str

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        context_tokens: int = DEFAULT_CONTEXT_TOKENS,
    ):
        self.model = model
        self.host = host_of(base_url)
        self.timeout_s = timeout_s
        self._context_tokens = context_tokens
        self._client = self._client_for(base_url, api_key, timeout_s)

    @abstractmethod
    def _client_for(self, base_url: str, api_key: str | None, timeout_s: float):
        """The HTTP client every request of this backend goes through."""

    @abstractmethod
    def _generate(
        self, messages: list[Message], params: Params, adapter: Adapter | None
    ) -> AsyncIterator[Piece | Finished]:
        """The answer to a checked request: pieces, then one `Finished`."""

    @abstractmethod
    async def check(self) -> float:
        """Milliseconds the server took to answer a tiny request; BackendError when it did not."""

    def _answer(self, messages, params, adapter, on_wait) -> AsyncIterator[Piece | Finished]:
        return self._generate(messages, params, adapter)  # `on_wait` is the local queue's

    def count_tokens(self, text: str) -> int:
        return approx_tokens(text)

    def context_tokens(self) -> int:
        return self._context_tokens

    def render_prompt(self, messages: list[Message]) -> str:
        return plain_prompt(messages)

    # ---- what a person reads when the server fails -----------------------------------------

    def refused(
        self, status: int, retry_after: str | None, *, busy: tuple[int, ...] = (429, 503)
    ) -> BackendError:
        """The server answered with HTTP `status`; `busy` are the statuses that mean "try
        again later" (after the Retry-After header's seconds)."""
        host = self.host
        if status in (401, 403):
            return BackendError(
                "auth",
                f"The server at {host} refused the API key; check it in the expert's backend settings.",
            )
        if status == 404:
            return BackendError(
                "not_found", f"The server at {host} has no model named {self.model}."
            )
        if status in busy:
            wait_s = retry_after_s(retry_after)
            return BackendBusy(
                f"The server at {host} is busy; try again in about {wait_s} seconds.", wait_s
            )
        return BackendError(
            "bad_response",
            f"The server at {host} answered with an error (HTTP {status}); "
            "check the expert's backend settings or try again later.",
        )

    def timed_out(self) -> BackendError:
        return BackendError(
            "timeout", f"The server at {self.host} did not answer within {self.timeout_s:g} s."
        )

    def unreachable(self) -> BackendError:
        return BackendError(
            "unreachable", f"Simtune could not reach {self.host}; is the server running?"
        )

    def unreadable(self) -> BackendError:
        return BackendError(
            "bad_response", f"The server at {self.host} sent an answer Simtune could not read."
        )
