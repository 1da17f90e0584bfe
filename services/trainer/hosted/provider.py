"""How the hosted fine-tuning client talks to its provider: one request at a time, each
answer sorted into success, a passing trouble worth retrying (lost connection, timeout,
429, 5xx) or a refusal, and a retry loop with capped exponential backoff bounded by a
number of tries or by a time budget.

Every sentence it raises is for a person and names the provider's host, never its API key:
the key travels in a header only, and a provider's message is scrubbed of it before use.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from runtime.logs import get_logger

log = get_logger(__name__)

MESSAGE_CHARS = 300


class HostedError(Exception):
    """A hosted fine-tune went wrong; the message is a plain sentence for a person.
    `retryable`: the provider could not be reached, so the same call may work later."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class HostedCancelled(Exception):
    """`follow` stopped because the run was cancelled. `stopped`: the provider confirmed
    the cancel (if False, the job may still be running there and the message says why)."""

    def __init__(self, job_id: str, *, stopped: bool, message: str) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.stopped = stopped


class Transient(Exception):
    """A passing trouble: `cause` is a short phrase, `retry_after` the provider's hint."""

    def __init__(self, cause: str, retry_after: float | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.retry_after = retry_after


class Interrupted(Exception):
    """The retry loop's `interrupt` said stop (the run was cancelled while waiting)."""


def trim(text: str, limit: int = MESSAGE_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ProviderHttp:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout_s: float,
        backoff_s: float,
        backoff_cap_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        url = httpx.URL(base_url)
        self.host = url.host + (f":{url.port}" if url.port else "")
        self._key = api_key or None
        self.timeout_s = timeout_s
        self.backoff_s = min(backoff_s, backoff_cap_s)
        self.backoff_cap_s = backoff_cap_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s, transport=transport
        )

    def scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def unreachable(self, cause: str) -> str:
        return f"The fine-tuning service at {self.host} could not be reached: {cause}."

    async def call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        attempts: int | None = None,
        patience_s: float | None = None,
        interrupt: Callable[[], Awaitable[bool]] | None = None,
        before_retry: Callable[[], Awaitable[dict | None]] | None = None,
        **kwargs: Any,
    ) -> dict:
        """One request, retried on passing trouble until `attempts` tries are spent or the
        next wait would pass `patience_s` since the first failure. `before_retry` may find
        that an earlier try went through after all (its answer is returned); `interrupt`
        is asked before every wait and raises `Interrupted` when it says so."""
        started = time.monotonic()
        delay = self.backoff_s
        tries = 0
        while True:
            tries += 1
            try:
                return await self.once(method, path, what=what, **kwargs)
            except Transient as exc:
                wait = min(max(delay, exc.retry_after or 0.0), max(self.backoff_cap_s, 60.0))
                spent = time.monotonic() - started
                if (attempts is not None and tries >= attempts) or (
                    patience_s is not None and spent + wait > patience_s
                ):
                    raise HostedError(self.unreachable(exc.cause), retryable=True) from None
                log.warning("hosted.retry", host=self.host, what=what, cause=exc.cause, wait_s=wait)
                if interrupt is not None and await interrupt():
                    raise Interrupted from None
                await asyncio.sleep(wait)
                delay = min(delay * 2, self.backoff_cap_s)
                if before_retry is not None:
                    found = await before_retry()
                    if found is not None:
                        return found

    async def once(self, method: str, path: str, *, what: str, **kwargs: Any) -> dict:
        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise Transient(f"no answer within {self.timeout_s:g} s") from None
        except httpx.ConnectError as exc:
            raise Transient(f"could not connect ({trim(self.scrub(str(exc)), 80)})") from None
        except httpx.RemoteProtocolError:
            raise Transient("the connection was closed before the answer was complete") from None
        except httpx.TransportError as exc:
            words = trim(self.scrub(str(exc)), 80) or type(exc).__name__
            raise Transient(f"the connection was lost ({words})") from None
        status = response.status_code
        if status in (401, 403):
            raise HostedError(self._refused_key(status))
        if status in (408, 409, 429) or status >= 500:
            raise Transient(
                f"it answered {status} {response.reason_phrase}".rstrip(),
                _retry_after(response.headers.get("retry-after")),
            )
        if status >= 400:
            said = self._provider_message(response) or f"it answered {status}"
            raise HostedError(
                f"The fine-tuning service at {self.host} refused to {what}: {said.rstrip('.')}."
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise Transient(f"it answered {status} with something other than a JSON object")
        return body

    def _refused_key(self, status: int) -> str:
        if self._key is None:
            return (
                f"The fine-tuning service at {self.host} asks for an API key (HTTP {status})"
                " and none is set; add one to the expert's fine-tuning settings."
            )
        return (
            f"The fine-tuning service at {self.host} refused the API key (HTTP {status});"
            " check the key in the expert's fine-tuning settings."
        )

    def _provider_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return trim(self.scrub(response.text)) if response.text.strip() else ""
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        if not message and isinstance(body, dict):
            message = body.get("message") or body.get("detail")
        return trim(self.scrub(str(message))) if message else ""

    async def aclose(self) -> None:
        await self.client.aclose()


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: the backoff decides instead
