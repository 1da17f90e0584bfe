"""The console's accounts: signing in (an email link; the first owner through the setup link
printed at start), the account page (API keys, sessions, signing out) and, for the owner,
the people with an account.

Every form is a plain POST under `/ui/` (CSRF-checked by `gateway.http.security`) answered
with a redirect, so each works without JavaScript. A failed step says what to do in words
on the same page (`?error=`, `?sent=`), never a stack of codes.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from contracts import accounts
from contracts.base import DomainError, ErrorCode
from gateway.accounts.access import signed_in
from gateway.accounts.limits import SIGN_IN
from gateway.accounts.sessions import clear_session, rotate, session_token, set_session
from gateway.backend import Backend
from gateway.http.pages import FORM

PUBLIC = {"public": True}
LINK_SENT = {
    "email": "If that address has an account, a sign-in link is on its way. It works once,"
    " for 15 minutes.",
    "log": "If that address has an account, its sign-in link was written to the Simtune"
    " server's log (no email server is set up: SIMTUNE_SMTP_URL). It works once, for 15"
    " minutes.",
}


class EmailForm(msgspec.Struct, kw_only=True):
    email: str = ""
    next: str = "/"


class SetupForm(msgspec.Struct, kw_only=True):
    token: str = ""
    email: str = ""


class KeyForm(msgspec.Struct, kw_only=True):
    name: str = ""
    scope: str = "write"  # read | write | admin: that scope and those below it
    expires_in_days: str = ""


class UserForm(msgspec.Struct, kw_only=True):
    email: str = ""
    role: str = "member"


class SignOutForm(msgspec.Struct, kw_only=True):
    everywhere: str = ""


SCOPES_UP_TO = {"read": ["read"], "write": ["read", "write"], "admin": ["read", "write", "admin"]}


def local_path(target: str) -> str:
    """`next` only ever leads back into Simtune: a path on this site, never another site."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def refusal(exc: DomainError) -> str:
    return exc.detail[:1].upper() + exc.detail[1:]


def back(path: str, **query: str) -> Redirect:
    pairs = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items() if v)
    return Redirect(f"{path}?{pairs}" if pairs else path, status_code=303)


def refused(exc: DomainError, codes: tuple[ErrorCode, ...], path: str, **query: str) -> Redirect:
    """Back to the form at `path`, saying why, when `exc` is one of the refusals (`codes`) a
    person can act on; anything else is not theirs to fix and goes on up."""
    if exc.code not in codes:
        raise exc
    return back(path, error=refusal(exc), **query)


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")[:300]


class SignInPages(Controller):
    include_in_schema = False
    opt = PUBLIC

    @get("/signin")
    async def signin(
        self,
        backend: Backend,
        next_: str = Parameter(query="next", default="/"),
        sent: str | None = None,
        error: str | None = None,
    ) -> Template | Redirect:
        if (await backend.ask(accounts.GetSetup())).needed:
            return Template("accounts/setup_needed.html")
        context = {"next": local_path(next_), "sent": LINK_SENT.get(sent or ""), "error": error,
                   "github": bool(backend.settings.github_client_id
                                  and backend.settings.github_client_secret)}  # fmt: skip
        return Template("accounts/signin.html", context=context)

    @post("/ui/signin/email", opt=SIGN_IN)  # sign-ins are counted per address (`limits`)
    async def send_link(self, backend: Backend, data: EmailForm = FORM) -> Redirect:
        base = f"{backend.settings.public_url.rstrip('/')}/signin/email?next="
        base += quote(local_path(data.next), safe="") + "&token="
        try:
            sent = await backend.ask(
                accounts.SendMagicLink(email=data.email.strip(), link_base=base)
            )
        except DomainError as exc:
            return refused(
                exc, (ErrorCode.INVALID, ErrorCode.RATE_LIMITED), "/signin", next=data.next
            )
        return back("/signin", sent=sent.delivery, next=data.next)

    @get("/signin/email", opt=SIGN_IN)
    async def redeem(
        self,
        request: Request,
        backend: Backend,
        token: str = "",
        next_: str = Parameter(query="next", default="/"),
    ) -> Response:
        try:
            await rotate(backend, request)
            signed = await backend.ask(
                accounts.RedeemMagicLink(token=token, user_agent=user_agent(request))
            )
        except DomainError as exc:
            if exc.code not in (ErrorCode.NOT_FOUND, ErrorCode.INVALID):
                raise
            return back(
                "/signin",
                error="That sign-in link is not valid any more: links work"
                " once, for 15 minutes. Ask for a new one below.",
            )
        return set_session(Redirect(local_path(next_), status_code=303), signed, request)

    @get("/setup")
    async def setup(self, backend: Backend, token: str = "", error: str | None = None) -> Template:
        needed = (await backend.ask(accounts.GetSetup())).needed
        context = {"token": token, "needed": needed, "error": error}
        return Template("accounts/setup.html", context=context)

    @post("/ui/setup", opt=SIGN_IN)
    async def claim(self, request: Request, backend: Backend, data: SetupForm = FORM) -> Response:
        cmd = accounts.ClaimSetup(
            setup_token=data.token.strip() or "-",
            email=data.email.strip(),
            user_agent=user_agent(request),
        )
        try:
            signed = await backend.ask(cmd)
        except DomainError as exc:
            codes = (ErrorCode.NOT_FOUND, ErrorCode.INVALID, ErrorCode.CONFLICT)
            return refused(exc, codes, "/setup", token=data.token)
        return set_session(Redirect("/account?welcome=1", status_code=303), signed, request)


class AccountPages(Controller):
    include_in_schema = False

    @get("/account")
    async def account(
        self,
        request: Request,
        backend: Backend,
        new_key: str | None = None,
        error: str | None = None,
        welcome: str | None = None,
    ) -> Template:
        me = signed_in(backend)
        keys = await backend.ask(accounts.ListApiKeys(user_id=me.user_id))
        current = session_token(request)
        sessions = await backend.ask(accounts.ListSessions(user_id=me.user_id, current=current))
        passkeys = await backend.ask(accounts.ListPasskeys(user_id=me.user_id))
        context = {
            "me": me,
            "keys": keys.keys,
            "passkeys": passkeys.passkeys,
            "sessions": sessions.sessions,
            "new_key": new_key,
            "error": error,
            "welcome": welcome,
        }
        return Template("accounts/account.html", context=context)

    @post("/ui/account/keys")
    async def create_key(self, backend: Backend, data: KeyForm = FORM) -> Response:
        me = signed_in(backend)
        days = data.expires_in_days.strip()
        try:
            issued = await backend.ask(
                accounts.IssueApiKey(
                    user_id=me.user_id,
                    name=data.name.strip() or "unnamed",
                    scopes=SCOPES_UP_TO.get(data.scope, ["read"]),
                    expires_in_days=int(days) if days.isdigit() else None,
                )
            )
        except DomainError as exc:
            return refused(exc, (ErrorCode.INVALID,), "/account")
        # shown once, on the page the form leads to; the key never goes into a URL's log
        context = {"me": me, "issued": issued}
        return Template("accounts/key_created.html", context=context, status_code=201)

    @post("/ui/account/keys/{key_id:str}/revoke")
    async def revoke_key(self, backend: Backend, key_id: str) -> Redirect:
        me = signed_in(backend)
        await backend.ask(
            accounts.RevokeApiKey(user_id=me.user_id, key_id=key_id, revoked_by=backend.actor)
        )
        return back("/account")

    @post("/ui/signout")
    async def sign_out(
        self, request: Request, backend: Backend, data: SignOutForm = FORM
    ) -> Response:
        if token := session_token(request):
            await backend.ask(accounts.EndSessions(token=token, everywhere=bool(data.everywhere)))
        return clear_session(Redirect("/signin", status_code=303), request)


class UserPages(Controller):
    """The owner's page of people (`/admin/…`: owner only, by `gateway.accounts.access`)."""

    include_in_schema = False

    @get("/admin/users")
    async def users(self, backend: Backend, error: str | None = None) -> Template:
        listed = await backend.ask(accounts.ListUsers())
        erased = await backend.ask(accounts.ListErasures(by_user=signed_in(backend).user_id))
        context = {"users": listed.users, "me": backend.principal, "error": error,
                   "erasures": erased.erasures}  # fmt: skip
        return Template("accounts/users.html", context=context)

    @post("/ui/admin/users")
    async def add(self, backend: Backend, data: UserForm = FORM) -> Redirect:
        role = data.role if data.role in ("owner", "member") else "member"
        try:
            await backend.ask(
                accounts.CreateUser(email=data.email.strip(), role=role, created_by=backend.actor)
            )
        except DomainError as exc:
            return refused(exc, (ErrorCode.INVALID, ErrorCode.CONFLICT), "/admin/users")
        return back("/admin/users")

    @post("/ui/admin/users/{user_id:str}/remove")
    async def remove(self, backend: Backend, user_id: str) -> Redirect:
        try:
            await backend.ask(accounts.RemoveUser(user_id=user_id, removed_by=backend.actor))
        except DomainError as exc:
            return refused(exc, (ErrorCode.CONFLICT,), "/admin/users")
        return back("/admin/users")


ROUTES = [SignInPages, AccountPages, UserPages]
