"""Every request has a person behind it (an ASGI middleware, `authenticate`).

The credential is an API key (`Authorization: Bearer sk-sim-…`, what the CLI, `/v1` clients
and scripts send) or the console's session cookie (`simtune_session`, HttpOnly). The accounts
service says whose it is (`Whois`); the `Principal` goes into the request's state, and the
route's `backend` acts for that person's tenant (`gateway.app.provide_backend`). While the
accounts service cannot answer, a credential it confirmed in the last minute still signs in
(`Recent`), so an outage of accounts is not an outage of everything.

What a route may be asked for (`access.required`): public routes (sign-in, setup, `/health`,
static files, the API reference) need nobody; reading needs the `read` scope, changing
anything `write`, the owner's routes (`/api/admin/…`, `/admin/…`) the owner role and the
`admin` scope. Who is missing gets 401 — JSON `{"error": "unauthenticated"}` on `/api`, OpenAI's
error shape on `/v1`, a redirect to the sign-in page on the console — and who lacks a scope or
the role gets 403.

Sign-in attempts and unknown credentials are counted per client address (`limits`): past
either limit, 429 with Retry-After.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

from litestar.datastructures import Headers
from litestar.types import ASGIApp, Receive, Scope, Send

from contracts.accounts import SESSION_COOKIE, Principal, Whois
from contracts.base import DomainError, ErrorCode
from gateway.accounts import access
from gateway.accounts.limits import Limits, RateLimited, refuse, signs_in
from gateway.backend import Backend

PRINCIPAL = "principal"  # the key of the signed-in person in the request's state


def authenticate(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        headers = Headers.from_scope(scope)
        limits = Limits.of(scope)
        need = access.required(scope)
        if need is access.Need.NOBODY:
            if signs_in(scope):
                limits.sign_in(limits.client(scope, headers))
            await app(scope, receive, send)
            return
        backend: Backend = scope["app"].state.backend
        credential = credential_of(headers)
        address = limits.client(scope, headers) if credential else ""
        if credential:
            try:
                limits.check_credentials(address)
            except RateLimited as refusal:
                if not await refuse(scope, receive, send, refusal):
                    raise
                return
        principal = await whois(backend, credential)
        if principal is None:
            if credential:
                limits.unknown_credential(address, Recent.fingerprint(credential))
            await access.refuse_anonymous(scope, receive, send, headers)
            return
        access.check(need, principal)
        scope.setdefault("state", {})[PRINCIPAL] = principal
        await app(scope, receive, send)

    return middleware


def credential_of(headers: Headers) -> str | None:
    """The API key of `Authorization: Bearer`, else the session cookie's token."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return cookies(headers).get(SESSION_COOKIE) or None


def cookies(headers: Headers) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in headers.get("cookie", "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in found:
            found[name] = value
    return found


class Recent:
    """Who each credential belonged to when last asked, for an outage only.

    Every request asks the accounts service, so a revoked key or an ended session is refused
    at once. Only when the service cannot answer (its database out of reach, the process
    restarting) does a credential it confirmed within `STALE_S` seconds still sign in, so an
    outage of accounts is not an outage of everything else. An answer "unknown" forgets it."""

    STALE_S = 60.0
    SIZE = 10_000

    def __init__(self) -> None:
        self._seen: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    @staticmethod
    def fingerprint(credential: str) -> str:
        return hashlib.sha256(credential.encode()).hexdigest()

    def remember(self, credential: str, principal: Principal) -> None:
        key = self.fingerprint(credential)
        self._seen[key] = (principal, time.monotonic())
        self._seen.move_to_end(key)
        while len(self._seen) > self.SIZE:
            self._seen.popitem(last=False)

    def forget(self, credential: str) -> None:
        self._seen.pop(self.fingerprint(credential), None)

    def during_outage(self, credential: str) -> Principal | None:
        principal, seen = self._seen.get(self.fingerprint(credential), (None, 0.0))
        return principal if time.monotonic() - seen <= self.STALE_S else None


RECENT = Recent()


async def whois(backend: Backend, credential: str | None) -> Principal | None:
    """The person `credential` belongs to, or None for none, an unknown one, an expired one."""
    if not credential or len(credential) > 200:
        return None
    try:
        principal = await backend.ask(Whois(credential=credential))
    except DomainError as exc:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.INVALID):
            RECENT.forget(credential)
            return None
        if exc.code == ErrorCode.UNAVAILABLE and (known := RECENT.during_outage(credential)):
            return known
        raise
    RECENT.remember(credential, principal)
    return principal
