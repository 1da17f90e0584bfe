"""`/api/auth/…`: who am I, my API keys, my sessions, signing in by email and out;
`/api/admin/users`: the owner manages who has an account.

Every id these routes act on comes from the signed-in person (`backend.principal`), never
from the request: `DELETE /api/auth/api-keys/{id}` revokes one of *your* keys, and another
person's key id answers 404 as a missing one does.
"""

from __future__ import annotations

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.status_codes import HTTP_204_NO_CONTENT

from contracts import accounts
from gateway.accounts import forgetting
from gateway.accounts.access import signed_in
from gateway.accounts.limits import SIGN_IN
from gateway.accounts.sessions import session_token
from gateway.backend import Backend
from gateway.http.errors import error_responses
from gateway.http.routes import one_message

PUBLIC = {"public": True}


class Me(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    email: str
    role: str
    scopes: list[str]
    via: str  # "session" (the console) or "key"


class NewKey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: accounts.KeyName
    scopes: list[accounts.Scope] | None = None  # default: read and write
    expires_in_days: accounts.ExpiresInDays | None = None


class EmailSignIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: accounts.Email


class SignOut(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    everywhere: bool = False


class NewUser(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: accounts.Email
    role: accounts.Role = "member"
    api_key: bool = False


@get("/api/auth/me", summary="Who is signed in", responses=error_responses(401))
async def me(backend: Backend) -> Me:
    p = signed_in(backend)
    return Me(user_id=p.user_id, email=p.email, role=p.role, scopes=p.scopes, via=p.via)


@post(
    "/api/auth/api-keys",
    status_code=201,
    summary="Create an API key (shown once, in this answer)",
    description="`scopes` from read, write, admin (admin: owners only); by default read and"
    " write. The key is stored only as a hash: keep it now, it cannot be shown again.",
    responses=error_responses(401, 403),
)
async def create_key(backend: Backend, data: NewKey) -> accounts.IssuedKey:
    p = signed_in(backend)
    scopes = data.scopes if data.scopes is not None else ["read", "write"]
    cmd = accounts.IssueApiKey(
        user_id=p.user_id, name=data.name, scopes=scopes, expires_in_days=data.expires_in_days
    )
    return await backend.ask(cmd)


list_keys = one_message(
    get,
    "/api/auth/api-keys",
    accounts.ListApiKeys,
    name="list_keys",
    owner="user_id",
    summary="Your API keys (never the keys themselves)",
)


revoke_key = one_message(
    delete,
    "/api/auth/api-keys/{key_id:str}",
    accounts.RevokeApiKey,
    name="revoke_key",
    owner="user_id",  # another person's key, or none, is a 404
    actor="revoked_by",
    status_code=HTTP_204_NO_CONTENT,
    summary="Revoke one of your API keys; it is refused from then on",
    responses=error_responses(401, 404),
)


@get("/api/auth/sessions", summary="Where you are signed in")
async def list_sessions(backend: Backend, request: Request) -> accounts.SessionList:
    current = session_token(request)
    return await backend.ask(
        accounts.ListSessions(user_id=signed_in(backend).user_id, current=current)
    )


async def forget_cookie(response: Response) -> Response:
    """After signing out, the browser drops its session cookie too."""
    response.delete_cookie(accounts.SESSION_COOKIE, path="/")
    return response


@post(
    "/api/auth/signout",
    status_code=HTTP_204_NO_CONTENT,
    summary="Sign out here, or everywhere (`everywhere`: every session of yours ends)",
    after_request=forget_cookie,
)
async def sign_out(backend: Backend, request: Request, data: SignOut) -> None:
    if token := session_token(request):
        await backend.ask(accounts.EndSessions(token=token, everywhere=data.everywhere))


@post(
    "/api/auth/signin/email",
    status_code=202,
    opt=SIGN_IN,  # counted per address (`limits`)
    summary="Send a single-use sign-in link (valid 15 minutes) to an address",
    description="The answer is the same whether or not the address has an account."
    " `delivery` is `log` when no SMTP server is configured: the link is in the server's log.",
    responses=error_responses(429),
)
async def email_link(backend: Backend, request: Request, data: EmailSignIn) -> accounts.LinkSent:
    base = f"{backend.settings.public_url.rstrip('/')}/signin/email?token="
    return await backend.ask(accounts.SendMagicLink(email=data.email, link_base=base))


@get("/api/admin/users", summary="Everyone with an account (owner only)")
async def list_users(backend: Backend) -> accounts.UserList:
    return await backend.ask(accounts.ListUsers())


@post(
    "/api/admin/users",
    status_code=201,
    summary="Add a person (owner only); `api_key` also issues them a key, shown once",
    responses=error_responses(403, 409),
)
async def create_user(backend: Backend, data: NewUser) -> accounts.UserCreatedReply:
    cmd = accounts.CreateUser(
        email=data.email, role=data.role, api_key=data.api_key, created_by=backend.actor
    )
    return await backend.ask(cmd)


@delete(
    "/api/admin/users/{user_id:str}",
    status_code=200,
    summary="Remove a person (owner only), or delete their data with a confirmation",
    description="Without a body: their keys and sessions stop working at once (204). With"
    ' `{"confirm": "<their email address>"}`: their data is deleted for good, as with'
    " `DELETE /api/me`: 200 with what each service removed, or 202 with those pending.",
    responses=error_responses(400, 403, 404, 409),
)
async def remove_user(
    backend: Backend, user_id: str, data: forgetting.Confirmation | None = None
) -> Response:
    if data is not None:
        typed = forgetting.confirmed(data)
        return forgetting.answer(await forgetting.forget(backend, user_id, typed))
    await backend.ask(accounts.RemoveUser(user_id=user_id, removed_by=backend.actor))
    return Response(None, status_code=HTTP_204_NO_CONTENT)


ROUTES = [
    me,
    create_key,
    list_keys,
    revoke_key,
    list_sessions,
    sign_out,
    email_link,
    list_users,
    create_user,
    remove_user,
]
