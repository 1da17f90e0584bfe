"""A browser cannot be turned against its user (an ASGI middleware, `guard`).

- Only the allowed host names are served (`SIMTUNE_ALLOWED_HOSTS`): a site whose name is made
  to resolve to this computer (DNS rebinding) gets 400.
- Unsafe methods (POST, PUT, PATCH, DELETE) that a browser sends for another site get 403:
  `Sec-Fetch-Site` is cross-site or same-site, or `Origin` is not this host. Requests with
  neither header (the CLI, curl, SDKs) pass.
- A body sent to `/api/` or `/v1/` must be JSON (or multipart, on upload routes; or JSON
  lines, on the JSONL import route), else 415: a cross-site `text/plain` form cannot pose as
  JSON.
- Console forms (`/ui/`) need a CSRF token, double-submitted: the `simtune_csrf` cookie and
  the same value in the `X-CSRF-Token` header (htmx), the `_csrf` field (url-encoded forms)
  or the `_csrf` query parameter (the streamed upload form, whose body is not read here).
  Templates get it from `csrf_token()`.
- Every response gets nosniff and a same-origin Referrer-Policy; HTML a strict
  Content-Security-Policy and X-Frame-Options: DENY.

Litestar's `AllowedHostsConfig` is not used for the host check: since 2.22 it matches the
Host header with its port still on, so `127.0.0.1:8000` never matches `127.0.0.1`
(litestar-org/litestar#4869). Refusals are rendered by `gateway.http.errors.handle_error`, so they
look like every other error (JSON for the API, a page or an alert for the console).
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from litestar import Request
from litestar.datastructures import Headers
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.errors import handle_error
from runtime.logs import get_logger

log = get_logger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_PREFIXES = ("/api/", "/v1/")
FORM_PREFIX = "/ui/"
UPLOAD_SUFFIX = ("/documents", "/api/lora/import", "/api/me/import")  # multipart routes
JSON_LINES_PATH = "/api/benchmark/questions/import"  # takes a JSONL file as its body
JSON_LINES = ("application/x-ndjson", "application/jsonl")  # no HTML form can send these
CSRF_COOKIE = "simtune_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "_csrf"
STATE_KEY = "csrf_token"
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?")
DEFAULT_PORTS = {"http": ":80", "https": ":443"}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
EVERY_RESPONSE = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
PAGE = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY")]
# Litestar's API reference (/schema) is Redoc from its CDN with inline script: not framed, but
# not under the console's policy either.
SCHEMA_PAGE = [
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
]

FOREIGN_HOST = (
    "Simtune does not answer to the host name {host!r}; SIMTUNE_ALLOWED_HOSTS lists those it does."
)
CROSS_SITE = "Simtune refused this request because another web site sent it."
NOT_JSON = "Send the request body as JSON (Content-Type: application/json), not {type}."
NOT_UPLOAD = "Send files as multipart/form-data or the body as JSON, not {type}."
NO_TOKEN = "This form has expired or did not come from Simtune; reload the page and try again."


def guard(app: ASGIApp, allowed_hosts: Iterable[str]) -> ASGIApp:
    hosts = AllowedHosts(allowed_hosts)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = Headers.from_scope(scope)
        cookie_token = csrf_cookie(headers)
        token = cookie_token or secrets.token_urlsafe(32)
        scope.setdefault("state", {})[STATE_KEY] = token
        send = with_security_headers(send, scope["path"], None if cookie_token else token)
        try:
            hosts.check(headers.get("host"))
            if scope["method"] in UNSAFE_METHODS:
                check_origin(headers)
                check_body_type(scope["path"], headers)
                if scope["path"].startswith(FORM_PREFIX):
                    await check_csrf(scope, receive, headers, cookie_token)
        except HTTPException as exc:
            await refuse(scope, receive, send, exc)
            return
        await app(scope, receive, send)

    return middleware


def csrf_token(context: Mapping[str, Any], /) -> str:
    """The CSRF token for templates (`{{ csrf_token() }}`); '' when rendered outside a request."""
    request = context.get("request")
    return request.scope.get("state", {}).get(STATE_KEY, "") if request is not None else ""


class AllowedHosts:
    """Host names as in SIMTUNE_ALLOWED_HOSTS: exact, `*.example.org` (subdomains) or `*`."""

    def __init__(self, names: Iterable[str]) -> None:
        names = [name.lower().strip("[]") for name in names]
        self.anything = "*" in names
        self.exact = {name for name in names if not name.startswith("*.")}
        self.suffixes = tuple(name[1:] for name in names if name.startswith("*."))

    def check(self, host_header: str | None) -> None:
        match = HOST.fullmatch((host_header or "").lower())
        name = match.group(1).strip("[]") if match else ""
        if self.anything or name in self.exact or (name and name.endswith(self.suffixes)):
            return
        raise HTTPException(status_code=400, detail=FOREIGN_HOST.format(host=host_header or ""))


def check_origin(headers: Headers) -> None:
    if headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        raise PermissionDeniedException(detail=CROSS_SITE)
    origin = headers.get("origin")
    if origin is not None and not same_origin(origin, headers.get("host") or ""):
        raise PermissionDeniedException(detail=CROSS_SITE)


def same_origin(origin: str, host: str) -> bool:
    """Does `Origin` (e.g. http://127.0.0.1:8000, or "null") name this request's `Host`?"""
    try:
        scheme, netloc = urlsplit(origin)[:2]
    except ValueError:
        return False
    default_port = DEFAULT_PORTS.get(scheme)
    if default_port is None or not host:
        return False
    return netloc.lower().removesuffix(default_port) == host.lower().removesuffix(default_port)


def check_body_type(path: str, headers: Headers) -> None:
    if not path.startswith(JSON_PREFIXES) or not has_body(headers):
        return
    media_type = media_type_of(headers)
    is_json = media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )
    upload = path.endswith(UPLOAD_SUFFIX)
    if is_json or (upload and media_type == "multipart/form-data"):
        return
    if path == JSON_LINES_PATH and media_type in JSON_LINES:
        return
    detail = (NOT_UPLOAD if upload else NOT_JSON).format(type=media_type or "no Content-Type")
    raise HTTPException(status_code=415, detail=detail)


def has_body(headers: Headers) -> bool:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return True
    length = headers.get("content-length", "0").strip()
    return not length.isdigit() or int(length) > 0


def media_type_of(headers: Headers) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


async def check_csrf(
    scope: Scope, receive: Receive, headers: Headers, expected: str | None
) -> None:
    sent = headers.get(CSRF_HEADER)
    if sent is None:
        query = parse_qs(scope["query_string"].decode("latin-1"))
        sent = query[CSRF_FIELD][0] if CSRF_FIELD in query else None
    if sent is None and media_type_of(headers) == "application/x-www-form-urlencoded":
        # Read through Litestar's Request: the body stays cached in the scope for the handler.
        field = (await Request(scope, receive).form()).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not (expected and sent and hmac.compare_digest(sent.encode(), expected.encode())):
        raise PermissionDeniedException(detail=NO_TOKEN)


def csrf_cookie(headers: Headers) -> str | None:
    for pair in headers.get("cookie", "").split(";"):
        name, _, value = pair.strip().partition("=")
        if name == CSRF_COOKIE and TOKEN.fullmatch(value):
            return value
    return None


def with_security_headers(send: Send, path: str, new_token: str | None) -> Send:
    async def send_secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {name.lower(): value for name, value in headers}
            html = present.get(b"content-type", b"").startswith(b"text/html")
            added = list(EVERY_RESPONSE)
            if html:
                added += SCHEMA_PAGE if path.startswith("/schema") else PAGE
            headers += [(name, value) for name, value in added if name not in present]
            if html and new_token:
                cookie = f"{CSRF_COOKIE}={new_token}; Path=/; SameSite=Strict; HttpOnly"
                headers.append((b"set-cookie", cookie.encode()))
            message = {**message, "headers": headers}
        await send(message)

    return send_secured


async def refuse(scope: Scope, receive: Receive, send: Send, exc: HTTPException) -> None:
    log.info("http.refused", path=scope["path"], status=exc.status_code, detail=exc.detail)
    request: Request = Request(scope, receive, send)
    response = handle_error(request, exc)
    await response.to_asgi_response(None, request)(scope, receive, send)
