"""Passkeys in the gateway: `/api/auth/passkeys/…` (JSON, what `web/static/passkeys.js`
calls) and the account page's removal form.

The gateway names the relying party and origin (`SIMTUNE_RP_ID`, `SIMTUNE_RP_ORIGIN`: where
people open the console, which behind a reverse proxy is not where the gateway listens) in
each ceremony it begins; the accounts service keeps them with the challenge and verifies
the browser's answer against them.

Registering a passkey needs a console session: an API key, even a read-only one, must not
be able to mint a way into the console with every scope of its owner's role. Signing in
with one is public and ends like every sign-in: the session the browser had ends, a new one
goes into the HttpOnly cookie (`sessions.rotate`, `sessions.set_session`).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect
from litestar.status_codes import HTTP_204_NO_CONTENT

from contracts import accounts
from contracts.base import DomainError, ErrorCode
from contracts.rules import Token
from gateway.accounts.access import signed_in
from gateway.accounts.limits import SIGN_IN
from gateway.accounts.sessions import rotate, set_session
from gateway.backend import Backend
from gateway.http.errors import error_responses
from gateway.http.routes import one_message

PUBLIC = {"public": True}
MAX_ANSWER = 65_536  # characters of an authenticator's answer, as JSON
SESSION_ONLY = "Passkeys are added from the console, signed in there: an API key cannot add one."
TOO_LONG = "The passkey's answer is longer than any authenticator's; it was not accepted."


class Answer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What `navigator.credentials` gave, in WebAuthn's JSON form (binary as base64url)."""

    challenge_id: Token
    credential: dict[str, Any]


class NewPasskey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    challenge_id: Token
    credential: dict[str, Any]
    name: accounts.PasskeyName = "passkey"


class SignedInAs(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    email: str
    role: str


def in_the_console(backend: Backend) -> accounts.Principal:
    me = signed_in(backend)
    if me.via != "session":
        raise PermissionDeniedException(detail=SESSION_ONLY)
    return me


def as_text(credential: dict[str, Any]) -> str:
    answer = msgspec.json.encode(credential).decode()
    if len(answer) > MAX_ANSWER:
        raise DomainError(ErrorCode.INVALID, TOO_LONG)
    return answer


@post(
    "/api/auth/passkeys/register/begin",
    status_code=200,
    summary="Begin adding a passkey: options for navigator.credentials.create()",
    description="Needs a console session. The challenge works once, for 5 minutes.",
    responses=error_responses(401, 403),
)
async def begin_registration(backend: Backend) -> accounts.PasskeyCeremony:
    me = in_the_console(backend)
    settings = backend.settings
    return await backend.ask(
        accounts.BeginPasskeyRegistration(
            user_id=me.user_id, rp_id=settings.rp_id, origin=settings.rp_origin
        )
    )


@post(
    "/api/auth/passkeys/register/finish",
    status_code=201,
    summary="Finish adding a passkey: the authenticator's answer, verified and kept",
    responses=error_responses(400, 401, 403, 404, 409),
)
async def finish_registration(backend: Backend, data: NewPasskey) -> accounts.PasskeyView:
    me = in_the_console(backend)
    cmd = accounts.FinishPasskeyRegistration(
        user_id=me.user_id,
        challenge_id=data.challenge_id,
        credential=as_text(data.credential),
        name=data.name,
    )
    return await backend.ask(cmd)


@post(
    "/api/auth/passkeys/signin/begin",
    status_code=200,
    opt=PUBLIC,
    summary="Begin signing in with a passkey: options for navigator.credentials.get()",
    description="Names no one: the authenticator offers the passkeys it holds for this site.",
    responses=error_responses(429),
)
async def begin_sign_in(backend: Backend) -> accounts.PasskeyCeremony:
    settings = backend.settings
    return await backend.ask(
        accounts.BeginPasskeySignIn(rp_id=settings.rp_id, origin=settings.rp_origin)
    )


@post(
    "/api/auth/passkeys/signin/finish",
    status_code=200,
    opt=SIGN_IN,  # counted per address (`limits`)
    summary="Finish signing in with a passkey: verified, a session cookie is set",
    responses=error_responses(400, 404),
)
async def finish_sign_in(backend: Backend, request: Request, data: Answer) -> Response[SignedInAs]:
    cmd = accounts.FinishPasskeySignIn(
        challenge_id=data.challenge_id,
        credential=as_text(data.credential),
        user_agent=request.headers.get("user-agent", "")[:300],
    )
    signed = await backend.ask(cmd)
    await rotate(backend, request)  # the session the browser came with ends
    body = SignedInAs(user_id=signed.user_id, email=signed.email, role=signed.role)
    return set_session(Response(body), signed, request)


list_passkeys = one_message(
    get,
    "/api/auth/passkeys",
    accounts.ListPasskeys,
    name="list_passkeys",
    owner="user_id",
    summary="Your passkeys",
)


@delete(
    "/api/auth/passkeys/{credential_id:str}",
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove one of your passkeys: it signs no one in from then on",
    responses=error_responses(401, 404),
)
async def remove_passkey(backend: Backend, credential_id: str) -> None:
    await remove_own(backend, credential_id)


async def remove_own(backend: Backend, credential_id: str) -> None:
    """Remove one of the caller's passkeys: another person's, or none, answers 404."""
    me = signed_in(backend)
    await backend.ask(
        accounts.RemovePasskey(
            user_id=me.user_id, credential_id=credential_id, removed_by=backend.actor
        )
    )


class PasskeyPages(Controller):
    """The account page's removal button: a plain form POST, answered with a redirect."""

    include_in_schema = False

    @post("/ui/account/passkeys/{credential_id:str}/remove")
    async def remove(self, backend: Backend, credential_id: str) -> Redirect:
        """Another person's passkey, or none, answers 404 as the API does."""
        await remove_own(backend, credential_id)
        return Redirect("/account", status_code=303)


API_ROUTES = [
    begin_registration,
    finish_registration,
    begin_sign_in,
    finish_sign_in,
    list_passkeys,
    remove_passkey,
]
PAGE_ROUTES = [PasskeyPages]
