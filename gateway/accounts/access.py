"""What a route asks of the person calling it, and how a refusal reads.

A route is public when its handler says so (`opt={"public": True}`: sign-in, setup,
`/health`) or it serves static files or the API reference. The owner's routes are every
`/api/admin/…` and `/admin/…` path. Anything else needs a signed-in person: `read` for safe
methods, `write` for the rest.
"""

from __future__ import annotations

import enum
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.datastructures import Headers
from litestar.exceptions import PermissionDeniedException
from litestar.types import Receive, Scope, Send

from contracts.accounts import Principal
from gateway.backend import Backend
from gateway.http.errors import ErrorBody, OpenAIError, OpenAIErrorDetail

PUBLIC_PREFIXES = ("/static/", "/schema")
OWNER_PREFIXES = ("/api/admin/", "/admin/", "/ui/admin/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGN_IN = "/signin"

UNAUTHENTICATED = (
    "Sign in first: send an API key as `Authorization: Bearer sk-sim-…` (create one on the"
    " account page, or with `simtune keys create`)."
)
MISSING_SCOPE = "This API key may not {what}: it lacks the {scope!r} scope."
OWNER_ONLY = "Only the owner of this Simtune can do this."


class Need(enum.Enum):
    NOBODY = "nobody"
    READ = "read"
    WRITE = "write"
    OWNER = "owner"


def signed_in(backend: Backend) -> Principal:
    """The person calling a route that needs one: the middleware let no one else through."""
    assert backend.principal is not None
    return backend.principal


def required(scope: Scope) -> Need:
    handler = scope.get("route_handler")
    path: str = scope["path"]
    if (handler is not None and (handler.opt or {}).get("public")) or path.startswith(
        PUBLIC_PREFIXES
    ):
        return Need.NOBODY
    if path.startswith(OWNER_PREFIXES):
        return Need.OWNER
    return Need.READ if scope.get("method", "GET") in SAFE_METHODS else Need.WRITE


def check(need: Need, principal: Principal) -> None:
    """Refuse (403) a person who lacks the role or a key that lacks the scope `need` asks."""
    if need is Need.OWNER:
        if principal.role != "owner":
            raise PermissionDeniedException(detail=OWNER_ONLY)
        if "admin" not in principal.scopes:
            raise PermissionDeniedException(
                detail=MISSING_SCOPE.format(what="manage this Simtune", scope="admin")
            )
    elif need is Need.WRITE and "write" not in principal.scopes:
        raise PermissionDeniedException(
            detail=MISSING_SCOPE.format(what="change anything", scope="write")
        )
    elif need is Need.READ and "read" not in principal.scopes:
        raise PermissionDeniedException(detail=MISSING_SCOPE.format(what="read", scope="read"))


def anonymous_response(scope: Scope, headers: Headers) -> Response:
    """401 in the caller's language: JSON on `/api`, OpenAI's shape on `/v1`, the sign-in
    page for the console (htmx follows `HX-Redirect`)."""
    path: str = scope["path"]
    challenge = {"WWW-Authenticate": 'Bearer realm="simtune"'}
    if path.startswith("/v1/"):
        detail = OpenAIErrorDetail(
            message=UNAUTHENTICATED,
            type="invalid_request_error",
            param=None,
            code="invalid_api_key",
        )
        return Response(OpenAIError(error=detail), status_code=401, headers=challenge)
    htmx = bool(headers.get("hx-request"))
    if path.startswith("/api/") or not (htmx or "text/html" in headers.get("accept", "")):
        body = ErrorBody(error="unauthenticated", detail=UNAUTHENTICATED)
        return Response(body, status_code=401, media_type=MediaType.JSON, headers=challenge)
    query = scope.get("query_string", b"").decode("latin-1")
    target = f"{SIGN_IN}?next={quote(path + ('?' + query if query else ''), safe='')}"
    if htmx:
        return Response("", status_code=401, headers={"HX-Redirect": target})
    return Response("", status_code=303, headers={"Location": target})


async def refuse_anonymous(scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
    request: Request = Request(scope, receive, send)
    response = anonymous_response(scope, headers)
    await response.to_asgi_response(None, request)(scope, receive, send)
