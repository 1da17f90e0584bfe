"""The console's session cookie: HttpOnly (no script reads it), SameSite=Lax (another site's
form or fetch does not carry it; a link in an email does), Secure when Simtune is served over
https (`SIMTUNE_PUBLIC_URL`). A sign-in always starts a new session and ends the one the
browser had, so a session token planted before sign-in is worth nothing after it."""

from __future__ import annotations

from litestar import Request, Response
from litestar.datastructures import Cookie

from contracts.accounts import SESSION_COOKIE, SESSION_DAYS, EndSessions, SignedIn
from gateway.backend import Backend


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def _secure(request: Request) -> bool:
    settings = request.app.state.settings
    return settings.public_url.startswith("https://")


def set_session(response: Response, signed: SignedIn, request: Request) -> Response:
    response.set_cookie(
        Cookie(
            key=SESSION_COOKIE,
            value=signed.token,
            max_age=SESSION_DAYS * 24 * 3600,
            path="/",
            httponly=True,
            samesite="lax",
            secure=_secure(request),
        )
    )
    return response


def clear_session(response: Response, request: Request) -> Response:
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def rotate(backend: Backend, request: Request) -> None:
    """End the session the browser came with, before a sign-in gives it a new one."""
    if old := session_token(request):
        await backend.ask(EndSessions(token=old))
