"""Sign in with GitHub (OAuth 2, with `httpx-oauth`), when SIMTUNE_GITHUB_CLIENT_ID and
SIMTUNE_GITHUB_CLIENT_SECRET are set.

`/signin/github` sends the browser to GitHub with a random `state`, which also goes into a
short-lived HttpOnly cookie: the callback is only believed in the browser that started it,
so no one can sign a victim into the attacker's account with a code of their own (login
CSRF). `/signin/github/callback` checks the state, trades the code for a token, and asks
GitHub's API for the person's id and their verified primary address (`/user/emails`: the
profile's public address may be anything and unverified). Whoever has an account with that
address is signed in (`SignInWithGithub`); an address with no account is refused with a page
saying to ask the owner for an invitation. GitHub never creates an account.

GitHub's addresses come from settings (`SIMTUNE_GITHUB_URL`, `SIMTUNE_GITHUB_API_URL`) so a
GitHub Enterprise server, or the tests' stand-in, can take its place.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from typing import Any

import httpx
from httpx_oauth.clients.github import GitHubOAuth2
from httpx_oauth.exceptions import GetProfileError
from httpx_oauth.oauth2 import OAuth2RequestError
from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.response import Redirect, Template

from contracts.accounts import SignInWithGithub
from contracts.base import DomainError, ErrorCode
from gateway.accounts.limits import SIGN_IN
from gateway.accounts.pages import local_path
from gateway.accounts.sessions import rotate, set_session
from gateway.backend import Backend
from runtime.logs import get_logger
from runtime.settings import Settings

log = get_logger(__name__)

STATE_COOKIE = "simtune_github_state"
STATE_SECONDS = 600  # the time a person has at GitHub to say yes
CALLBACK = "/signin/github/callback"
SCOPES = ["read:user", "user:email"]  # read the profile and the addresses; change nothing
TIMEOUT_S = 15.0

NOT_STARTED_HERE = (
    "This GitHub sign-in did not start in this browser, or took longer than 10 minutes."
    " Start again from the sign-in page."
)
DECLINED = "GitHub did not sign you in ({reason}). Start again from the sign-in page."
CODE_REFUSED = "GitHub did not accept this sign-in (the code is used or expired). Start again."
UNREACHABLE = "GitHub could not be reached to finish signing in; try again in a moment."
NOT_VERIFIED = (
    "Your GitHub account has no verified primary email address, so Simtune cannot tell who"
    " you are. Verify it on GitHub (Settings → Emails), or sign in another way."
)
NO_ACCOUNT = (
    "{email} has no account on this Simtune. Ask the person who runs it for an invitation:"
    " signing in with GitHub works for people who already have an account."
)


def configured(settings: Settings) -> bool:
    return bool(settings.github_client_id and settings.github_client_secret)


class GitHub(GitHubOAuth2):
    """httpx-oauth's GitHub client, with its addresses from settings rather than github.com
    (the library keeps its API's address in module constants, so the two API calls are
    made here)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            settings.github_client_id or "", settings.github_client_secret or "", scopes=SCOPES
        )
        self.authorize_endpoint = f"{settings.github_url}/login/oauth/authorize"
        self.access_token_endpoint = f"{settings.github_url}/login/oauth/access_token"
        self.refresh_token_endpoint = self.access_token_endpoint
        self.api_url = settings.github_api_url

    def get_httpx_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=TIMEOUT_S)

    async def get_profile(self, token: str) -> dict[str, Any]:
        return await self._api("/user", token)

    async def get_emails(self, token: str) -> list[dict[str, Any]]:
        return await self._api("/user/emails", token)

    async def _api(self, path: str, token: str) -> Any:
        headers = {**self.request_headers, "Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(headers=headers, timeout=TIMEOUT_S) as client:
            response = await client.get(self.api_url + path)
        if response.status_code >= 400:
            raise GetProfileError(response=response)
        return response.json()


def verified_primary(emails: Any) -> str | None:
    """The address GitHub marks primary, if it is verified; nothing else will do."""
    if not isinstance(emails, list):
        return None
    for entry in emails:
        if isinstance(entry, dict) and entry.get("primary") and entry.get("verified") is True:
            email = entry.get("email")
            return email if isinstance(email, str) else None
    return None


def state_cookie(state: str, next_: str, request: Request) -> Cookie:
    target = base64.urlsafe_b64encode(next_.encode()).decode().rstrip("=")
    return Cookie(
        key=STATE_COOKIE,
        value=f"{state}.{target}",
        max_age=STATE_SECONDS,
        path="/signin/github",
        httponly=True,
        samesite="lax",  # GitHub's redirect back is a top-level navigation: the cookie comes
        secure=request.app.state.settings.public_url.startswith("https://"),
    )


def read_state(request: Request) -> tuple[str, str] | None:
    """The state and the page to return to that this browser's cookie holds."""
    state, _, target = (request.cookies.get(STATE_COOKIE) or "").partition(".")
    if not state:
        return None
    try:
        next_ = base64.urlsafe_b64decode(target + "=" * (-len(target) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        next_ = "/"
    return state, local_path(next_)


def refused(reason: str, status: int) -> Response:
    page = Template("accounts/signin_refused.html", context={"reason": reason}, status_code=status)
    page.delete_cookie(STATE_COOKIE, path="/signin/github")
    return page


class GitHubSignIn(Controller):
    include_in_schema = False
    opt = {"public": True}

    @get("/signin/github")
    async def start(
        self, request: Request, backend: Backend, next_: str = Parameter(query="next", default="/")
    ) -> Response:
        settings = backend.settings
        if not configured(settings):
            raise NotFoundException(detail="signing in with GitHub is not set up here")
        state = secrets.token_urlsafe(32)
        url = await GitHub(settings).get_authorization_url(
            settings.public_url + CALLBACK, state=state, scope=SCOPES
        )
        redirect = Redirect(url, status_code=303)
        redirect.set_cookie(state_cookie(state, local_path(next_), request))
        return redirect

    @get(CALLBACK, opt=SIGN_IN)  # counted per address (`limits`)
    async def callback(
        self,
        request: Request,
        backend: Backend,
        code: str = "",
        returned: str = Parameter(query="state", default=""),  # `state` names Litestar's own
        error: str = "",
    ) -> Response:
        settings = backend.settings
        if not configured(settings):
            raise NotFoundException(detail="signing in with GitHub is not set up here")
        kept = read_state(request)
        if (
            kept is None
            or not returned
            or not hmac.compare_digest(kept[0].encode(), returned.encode())
        ):
            return refused(NOT_STARTED_HERE, 400)
        if error or not code:
            return refused(DECLINED.format(reason=error[:100] or "no code came back"), 400)
        github = GitHub(settings)
        try:
            token = await github.get_access_token(code[:200], settings.public_url + CALLBACK)
            if "access_token" not in token:  # GitHub answers a bad code with 200 and "error"
                return refused(CODE_REFUSED, 400)
            profile = await github.get_profile(token["access_token"])
            emails = await github.get_emails(token["access_token"])
        except (OAuth2RequestError, GetProfileError, httpx.HTTPError, ValueError) as exc:
            log.warning("gateway.github_failed", error=type(exc).__name__)
            return refused(UNREACHABLE, 502)
        email = verified_primary(emails)
        github_id = profile.get("id") if isinstance(profile, dict) else None
        if email is None or not isinstance(github_id, int):
            return refused(NOT_VERIFIED, 403)
        cmd = SignInWithGithub(
            github_id=github_id, email=email, user_agent=request.headers.get("user-agent", "")[:300]
        )
        try:
            signed = await backend.ask(cmd)
        except DomainError as exc:
            if exc.code not in (ErrorCode.NOT_FOUND, ErrorCode.INVALID):
                raise
            return refused(NO_ACCOUNT.format(email=email), 403)
        await rotate(backend, request)
        done = Redirect(kept[1], status_code=303)
        done.delete_cookie(STATE_COOKIE, path="/signin/github")
        return set_session(done, signed, request)


ROUTES = [GitHubSignIn]
