"""A local stand-in for GitHub's OAuth 2 server and the two API calls sign-in makes, since
github.com cannot be reached from the tests.

It behaves as GitHub does where Simtune depends on it: the authorize page sends the browser
back to `redirect_uri` with a one-time `code` and the `state` it was given (the person is
taken to have said yes; `user` is who is signed in at GitHub); the token endpoint takes the
code once, with the app's id and secret, and answers a bad one with 200 and an `error` (as
GitHub does); `/user` and `/user/emails` answer for a token it issued, 401 otherwise.

A Litestar app served by uvicorn on a free port in this process (`serving()`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

import uvicorn
from litestar import Litestar, Request, get, post
from litestar.exceptions import NotAuthorizedException, ValidationException
from litestar.response import Redirect

from tests.support.gateway_at import free_port
from tests.support.waiting import until

CLIENT_ID = "simtune-test-app"
CLIENT_SECRET = "not-a-real-secret"


@dataclass
class GithubUser:
    id: int
    login: str
    emails: list[dict] = field(default_factory=list)  # GitHub's /user/emails entries

    @classmethod
    def with_email(cls, email: str, *, verified: bool = True, id: int = 4242) -> GithubUser:
        entry = {"email": email, "primary": True, "verified": verified, "visibility": "private"}
        return cls(id=id, login=email.split("@")[0], emails=[entry])


@dataclass
class FakeGitHub:
    url: str = ""
    user: GithubUser | None = None  # who is signed in at GitHub and says yes
    codes: dict[str, tuple[GithubUser, str]] = field(default_factory=dict)  # code -> who, where
    tokens: dict[str, GithubUser] = field(default_factory=dict)
    authorized: list[dict] = field(default_factory=list)  # each authorize request's parameters

    def app(self) -> Litestar:
        @get("/login/oauth/authorize")
        async def authorize(request: Request) -> Redirect:
            params = dict(request.query_params)
            self.authorized.append(params)
            if params.get("client_id") != CLIENT_ID or self.user is None:
                raise ValidationException("unknown client, or no one signed in at GitHub")
            code = secrets.token_hex(10)
            self.codes[code] = (self.user, params["redirect_uri"])
            back = {"code": code, "state": params.get("state", "")}
            return Redirect(f"{params['redirect_uri']}?{urlencode(back)}", status_code=302)

        @post("/login/oauth/access_token", status_code=200)
        async def access_token(request: Request) -> dict:
            form = await request.form()
            found = self.codes.pop(form.get("code", ""), None)
            if (
                form.get("client_id") != CLIENT_ID
                or form.get("client_secret") != CLIENT_SECRET
                or found is None
                or found[1] != form.get("redirect_uri")
            ):
                return {
                    "error": "bad_verification_code",
                    "error_description": "incorrect or expired",
                }
            token = "gho_" + secrets.token_hex(16)
            self.tokens[token] = found[0]
            return {"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}

        def holder(request: Request) -> GithubUser:
            _, _, token = request.headers.get("authorization", "").partition(" ")
            if token not in self.tokens:
                raise NotAuthorizedException("Bad credentials")
            return self.tokens[token]

        @get("/user")
        async def profile(request: Request) -> dict:
            who = holder(request)
            return {"id": who.id, "login": who.login, "email": None}

        @get("/user/emails")
        async def emails(request: Request) -> list[dict]:
            return holder(request).emails

        return Litestar([authorize, access_token, profile, emails])


@asynccontextmanager
async def serving() -> AsyncIterator[FakeGitHub]:
    fake = FakeGitHub()
    port = free_port()
    fake.url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        await until(lambda: server.started or task.done(), what="the GitHub stand-in starting")
        if task.done():
            task.result()
        yield fake
    finally:
        server.should_exit = True
        await task
