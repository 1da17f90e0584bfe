"""The one interface every model backend speaks, and the errors people get to read.

The expert service streams answers from whichever backend an expert is configured with: the
local model running in this process (transformers + PEFT adapters), any OpenAI-compatible
server, or Ollama. They all yield `Piece`s and then one `Finished`, and they all fail with a
`BackendError` whose `sentence` can be shown to the person as it is: it says what to do, and
never carries an API key or a stack trace.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}

Reason = Literal["auth", "unreachable", "timeout", "busy", "not_found", "bad_response", "model"]
ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Params:
    max_tokens: int = 256
    temperature: float = 0.7  # 0 = greedy
    top_p: float = 0.95
    stop: tuple[str, ...] = ()
    background: bool = False  # a benchmark's: waits behind every person's question


@dataclass(frozen=True)
class Piece:
    """A piece of streamed text."""

    text: str


@dataclass(frozen=True)
class Finished:
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" | "length" | "cancelled"


@dataclass(frozen=True)
class Adapter:
    """A PEFT adapter directory (adapter_config.json + weights), or a hosted fine-tune that
    an OpenAI-compatible server serves under its own model name (`served_model`)."""

    adapter_id: str
    path: Path
    served_model: str | None = None


@dataclass(frozen=True)
class BackendConfig:
    kind: str = "local"  # "local" | "openai" | "ollama"
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    timeout_s: float = 60.0


class BackendError(Exception):
    """A backend could not answer. `sentence` is for people; `reason` is for code."""

    def __init__(self, reason: Reason, sentence: str):
        super().__init__(sentence)
        self.reason = reason
        self.sentence = sentence


class BackendBusy(BackendError):
    """Too many requests are waiting; try again after `retry_after_s` seconds."""

    def __init__(self, sentence: str, retry_after_s: int):
        super().__init__("busy", sentence)
        self.retry_after_s = retry_after_s


class Backend(ABC):
    """What answers a request: the local model or a server. Every request is checked here
    (`validate`) before a backend sees it, so each refuses the same requests with the same
    sentence; a backend says how it answers a checked one (`_answer`)."""

    kind: str  # "local" | "openai" | "ollama"
    model: str  # the model name reported in traces

    async def stream(
        self,
        messages: list[Message],
        params: Params,
        *,
        adapter: Adapter | None = None,
        on_wait: Callable[[int], None] | None = None,
    ) -> AsyncIterator[Piece | Finished]:
        """Pieces of the answer, then exactly one `Finished`. `aclose()` stops generating.

        `on_wait(position)` is called while the request waits in the local queue (1 = next)
        and again whenever it moves up (a server queues requests its own way).
        """
        validate(messages, params)
        async with aclosing(self._answer(messages, params, adapter, on_wait)) as items:
            async for item in items:
                yield item

    @abstractmethod
    def _answer(
        self,
        messages: list[Message],
        params: Params,
        adapter: Adapter | None,
        on_wait: Callable[[int], None] | None,
    ) -> AsyncIterator[Piece | Finished]:
        """The answer to a checked request: pieces, then one `Finished`."""

    @abstractmethod
    def count_tokens(self, text: str) -> int: ...

    @abstractmethod
    def context_tokens(self) -> int: ...

    @abstractmethod
    def render_prompt(self, messages: list[Message]) -> str: ...

    @abstractmethod
    async def check(self) -> float:
        """Latency in milliseconds of a one-token request; raises `BackendError`."""

    @abstractmethod
    async def close(self) -> None: ...


def validate(messages: list[Message], params: Params) -> None:
    """Raise ValueError, with a message a person can read, for a request no backend can serve."""
    if not isinstance(params.max_tokens, int) or params.max_tokens < 1:
        raise ValueError(
            f"max_tokens must be a whole number of at least 1 (got {params.max_tokens!r})."
        )
    if not (isinstance(params.temperature, int | float) and 0 <= params.temperature <= 2):
        raise ValueError(f"temperature must be between 0 and 2 (got {params.temperature!r}).")
    if not (isinstance(params.top_p, int | float) and 0 < params.top_p <= 1):
        raise ValueError(f"top_p must be above 0 and at most 1 (got {params.top_p!r}).")
    if any(not isinstance(s, str) or not s for s in params.stop):
        raise ValueError("Every stop sequence must be a non-empty piece of text.")
    if not messages:
        raise ValueError("A request needs at least one message.")
    for message in messages:
        if message.get("role") not in ROLES or not isinstance(message.get("content"), str):
            raise ValueError(
                "Each message needs a role (system, user or assistant) and text content."
            )


def host_of(base_url: str) -> str:
    """What people call the server in a sentence: host and port, never a path or credentials."""
    parsed = urlparse(base_url)
    if not parsed.hostname:
        return "the configured server"
    return f"{parsed.hostname}:{parsed.port}" if parsed.port else parsed.hostname


def approx_tokens(text: str) -> int:
    """About four characters a token: a remote server's tokenizer is not at hand."""
    return math.ceil(len(text) / 4)


def plain_prompt(messages: list[Message]) -> str:
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in messages)


def retry_after_s(header: str | None, default: int = 30) -> int:
    """Seconds from a Retry-After header (a number), or `default` when it is missing or a date."""
    try:
        return max(1, math.ceil(float(header or "")))
    except ValueError:
        return default
