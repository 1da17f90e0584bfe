"""Per-address limits on signing in and on credentials nobody owns (`Limits`).

Sliding windows per client address, `SIMTUNE_IP_LIMIT_WINDOW_S` long but for the third:

- sign-in attempts (`SIMTUNE_SIGNIN_ATTEMPTS_PER_IP`): every request to a route marked
  `SIGN_IN` (asking for an email link, opening one, claiming the setup link, finishing a
  passkey sign-in, GitHub's callback), whatever its outcome, so no address can try sign-ins
  faster than a person would;
- anonymous reads of the template registry (`SIMTUNE_ANONYMOUS_REQUESTS_PER_IP` an hour, its
  own window: `ANONYMOUS_WINDOW_S`): every request to a public `/v1/templates` route without an
  API key of this instance (`gateway.community.anonymous`);
- unknown credentials (`SIMTUNE_FAILED_CREDENTIALS_PER_IP`): API keys and session cookies
  the accounts service does not know. Each different one counts once, so a browser that
  keeps sending its expired session is not locked out, while guessing keys (a new key each
  try) stops after a few dozen. Over the limit, every request from that address that
  presents a credential is refused before it is looked up: a guesser learns nothing more.

The counts live in this gateway process's memory (a process of its own per gateway: a
restart forgets them, and several gateways each count their own). The client address is
the connection's peer, or, when the peer is a proxy named in `SIMTUNE_TRUSTED_PROXIES`, the
last address in `X-Forwarded-For` that is not one of those proxies.

A refusal is 429 with `Retry-After` and `{"error": "rate_limited", "detail"}` naming the
limit and its setting (OpenAI's error shape under `/v1`, a readable page on the console).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from itertools import count

from litestar import Request, Response
from litestar.datastructures import Headers
from litestar.exceptions import HTTPException
from litestar.types import Receive, Scope, Send

from gateway.http.errors import OpenAIError, OpenAIErrorDetail
from runtime.settings import Settings

SIGN_IN = {"public": True, "sign_in": True}  # a route's `opt`: public, and a sign-in attempt
MAX_ADDRESSES = 100_000  # addresses remembered at most; the least recently seen go first
ANONYMOUS_WINDOW_S = 3600  # anonymous reads are counted per hour

SIGN_IN_REFUSED = (
    "too many sign-in attempts from your address: at most {limit} in {window}"
    " (SIMTUNE_SIGNIN_ATTEMPTS_PER_IP); wait {wait} and try again"
)
CREDENTIALS_REFUSED = (
    "too many unknown API keys or sessions came from your address: at most {limit} in"
    " {window} (SIMTUNE_FAILED_CREDENTIALS_PER_IP); check the key you send (`simtune keys"
    " list`) or sign in again, after {wait}"
)
ANONYMOUS_REFUSED = (
    "too many requests without an API key from your address: at most {limit} in {window}"
    " (SIMTUNE_ANONYMOUS_REQUESTS_PER_IP); send an API key of this Simtune, or wait {wait}"
)

Clock = Callable[[], float]


class SlidingWindow:
    """At most `limit` events per `window_s` seconds for each key (a client address).

    An event may name `what` it was (an unknown credential's hash): the same `what` within
    the window counts once. `limit` 0 means no limit."""

    def __init__(self, limit: int, window_s: float, clock: Clock = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._seen: OrderedDict[str, OrderedDict[object, float]] = OrderedDict()
        self._ids = count()

    def _events(self, key: str, now: float) -> OrderedDict[object, float]:
        events = self._seen.get(key)
        if events is None:
            return OrderedDict()
        while events and next(iter(events.values())) <= now - self.window_s:
            events.popitem(last=False)
        if not events:
            del self._seen[key]
        return events

    def retry_after(self, key: str) -> float | None:
        """Seconds until `key` may have one more event, or None when it may now."""
        if self.limit <= 0:
            return None
        now = self.clock()
        events = self._events(key, now)
        if len(events) < self.limit:
            return None
        oldest = next(iter(events.values()))
        return max(oldest + self.window_s - now, 0.001)

    def hit(self, key: str, what: object = None) -> None:
        """Count one event of `key` (`what` already counted in the window: counted once)."""
        if self.limit <= 0:
            return
        now = self.clock()
        events = self._events(key, now)
        self._seen[key] = events
        self._seen.move_to_end(key)
        name = next(self._ids) if what is None else what
        events.pop(name, None)
        events[name] = now  # the newest last, so the oldest is always first
        while len(self._seen) > MAX_ADDRESSES:
            self._seen.popitem(last=False)

    def attempt(self, key: str) -> float | None:
        """Count one event unless `key` is over the limit; then the seconds to wait."""
        wait = self.retry_after(key)
        if wait is None:
            self.hit(key)
        return wait


def signs_in(scope: Scope) -> bool:
    """Whether the route is a sign-in attempt (its `opt` is `SIGN_IN`), counted per address."""
    handler = scope.get("route_handler")
    return handler is not None and bool((handler.opt or {}).get("sign_in"))


class RateLimited(HTTPException):
    """429 with Retry-After: the app's error handlers write it in the caller's language."""

    status_code = 429

    def __init__(self, detail: str, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(detail=detail, headers={"Retry-After": str(seconds)})
        self.retry_after = seconds


class Limits:
    """The gateway's per-address limits (one per app, in `app.state`)."""

    def __init__(self, settings: Settings, clock: Clock = time.monotonic) -> None:
        window = settings.ip_limit_window_s
        self.sign_ins = SlidingWindow(settings.signin_attempts_per_ip, window, clock)
        self.failures = SlidingWindow(settings.failed_credentials_per_ip, window, clock)
        self.anonymous = SlidingWindow(
            settings.anonymous_requests_per_ip, ANONYMOUS_WINDOW_S, clock
        )
        self.proxies = [ipaddress.ip_network(net) for net in settings.trusted_proxies]

    @classmethod
    def of(cls, scope: Scope) -> Limits:
        state = scope["app"].state
        limits = state.get("limits")
        if limits is None:
            limits = state["limits"] = cls(state["settings"])
        return limits

    def client(self, scope: Scope, headers: Headers) -> str:
        return client_address(scope, headers, self.proxies)

    def sign_in(self, address: str) -> None:
        """Count a sign-in attempt from `address`, or refuse it (RateLimited)."""
        wait = self.sign_ins.attempt(address)
        if wait is not None:
            raise RateLimited(self._sentence(SIGN_IN_REFUSED, self.sign_ins, wait), wait)

    def check_credentials(self, address: str) -> None:
        """Refuse (RateLimited) an address that sent too many unknown credentials lately."""
        wait = self.failures.retry_after(address)
        if wait is not None:
            raise RateLimited(self._sentence(CREDENTIALS_REFUSED, self.failures, wait), wait)

    def anonymous_request(self, address: str) -> None:
        """Count a request without an API key from `address`, or refuse it (RateLimited)."""
        wait = self.anonymous.attempt(address)
        if wait is not None:
            raise RateLimited(self._sentence(ANONYMOUS_REFUSED, self.anonymous, wait), wait)

    def unknown_credential(self, address: str, fingerprint: str) -> None:
        self.failures.hit(address, fingerprint)

    @staticmethod
    def _sentence(template: str, window: SlidingWindow, wait: float) -> str:
        return template.format(
            limit=window.limit, window=duration(window.window_s), wait=duration(wait)
        )


def duration(seconds: float) -> str:
    """How long, as a person reads it in a refusal: "10 minutes", "45 seconds"."""
    seconds = max(1, math.ceil(seconds))
    if seconds >= 90:
        return f"{round(seconds / 60)} minutes"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(scope: Scope, headers: Headers, proxies: list) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the last
    `X-Forwarded-For` entry that is not a trusted proxy (what the nearest proxy saw)."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    trusted = _address(peer)
    if trusted is None or not any(trusted in net for net in proxies):
        return peer
    forwarded = ",".join(headers.getall("x-forwarded-for", []))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return peer  # a proxy we trust wrote nothing readable: count the proxy itself
        if not any(address in net for net in proxies):
            return str(address)
    return str(_address(hops[0])) if hops else peer


async def refuse(scope: Scope, receive: Receive, send: Send, refusal: RateLimited) -> bool:
    """Answer `refusal` here for `/v1` (OpenAI's shape, with Retry-After: the `/v1` router's
    own handler keeps no headers); True when answered. Elsewhere the caller raises it."""
    if not scope["path"].startswith("/v1/"):
        return False
    detail = OpenAIErrorDetail(
        message=str(refusal.detail), type="rate_limit_error", param=None, code="rate_limited"
    )
    response = Response(OpenAIError(error=detail), status_code=429, headers=refusal.headers)
    request: Request = Request(scope, receive, send)
    await response.to_asgi_response(None, request)(scope, receive, send)
    return True
