"""Every failure becomes `{"error": code, "detail": sentence}` (or a friendly page).

Codes are `contracts.base.ErrorCode` values, mapped to HTTP by `HTTP_STATUS`. The JSON API
(`/api`, `/health`, `/schema`) always answers JSON; pages get an HTML error page and htmx
requests an HTML message fragment.
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import Litestar, MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Template
from litestar.routes import HTTPRoute

from contracts.base import HTTP_STATUS, DomainError, ErrorCode
from contracts.rules import explain
from runtime.logs import get_logger
from runtime.outages import disk_full

log = get_logger(__name__)

CODE_OF_STATUS = {status: code for code, status in reversed(HTTP_STATUS.items())}
CODE_OF_STATUS.update({401: "unauthorized", 403: "forbidden", 405: "method_not_allowed"})
RETRY_AFTER_S = 5  # what a full queue asks a client to wait before trying again
JSON_PREFIXES = ("/api/", "/health", "/schema", "/v1/")
DISK_FULL = "the server's disk is full, so this could not be stored; free some space and try again"
DESCRIPTIONS = {
    400: "The request is not valid (the detail says what to change).",
    404: "Nothing with that id exists.",
    409: "Someone else changed it first; reload and try again.",
    413: "A file is over the upload size limit.",
    415: "A file is not a PDF, plain-text or Markdown document.",
    429: "Over a limit: too many attempts from this address, or a per-user cap (the detail"
    " names it and its setting; see Retry-After when waiting helps).",
    502: "The expert's model server refused or failed (the detail says why).",
    503: "A service is not answering, or the model's queue is full (see Retry-After).",
}


class ErrorBody(msgspec.Struct, frozen=True):
    """Every error the API answers: a stable code and one readable sentence."""

    error: str
    detail: str


class OpenAIErrorDetail(msgspec.Struct, frozen=True):
    message: str
    type: str
    param: str | None
    code: str


class OpenAIError(msgspec.Struct, frozen=True):
    """Every error the `/v1` routes answer, in OpenAI's shape."""

    error: OpenAIErrorDetail


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the errors a route documents."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=DESCRIPTIONS.get(status, "Error")
        )
        for status in statuses
    }


# What any JSON route can answer, whatever else it documents: a request it cannot read (in
# this shape, not Litestar's own validation body), an address or person over a limit
# (gateway/accounts/limits.py, the per-user caps), and a service that does not answer.
ANY_ROUTE = (400, 429, 503)


def document_errors(app: Litestar) -> None:
    """Document `ANY_ROUTE`'s errors on every JSON route of `app` (before its OpenAPI document
    is first built), so the document declares every answer the routes give. `/v1/` routes
    answer in OpenAI's shape and declare their own."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(JSON_PREFIXES):
            continue
        if route.path.startswith("/v1/"):
            continue
        for handler in route.route_handlers:
            handler.responses = {**error_responses(*ANY_ROUTE), **(handler.responses or {})}


def _validation_detail(exc: HTTPException) -> str:
    extra = exc.extra if isinstance(exc.extra, list) else []
    parts = []
    for item in extra[:3]:
        if isinstance(item, dict):
            key, message = item.get("key"), str(item.get("message", "")).split(" for url ")[0]
            message = explain(message)
            parts.append(f"{key} {message}" if key and key not in message else message)
    return "; ".join(parts) or str(exc.detail)


def code_and_detail(exc: Exception) -> tuple[int, str, str]:
    if isinstance(exc, DomainError):
        return exc.status, exc.code, exc.detail
    if isinstance(exc, HTTPException):
        status = exc.status_code
        code = CODE_OF_STATUS.get(status, ErrorCode.INTERNAL if status >= 500 else "error")
        if status == 400:
            return status, code, _validation_detail(exc)
        if status == 404 and exc.detail == "Not Found":
            return status, code, "there is nothing at this address"
        if status == 413:
            return status, code, "the request is larger than the upload size limit"
        return status, code, str(exc.detail)
    if disk_full(exc):  # nothing half-written is kept: the request can simply be sent again
        return 503, ErrorCode.UNAVAILABLE, DISK_FULL
    return 500, ErrorCode.INTERNAL, "something went wrong inside Simtune"


def with_reference(detail: str) -> str:
    """A 5xx names no internals: one sentence and the id that finds the details in the log."""
    correlation_id = structlog.contextvars.get_contextvars().get("correlation_id")
    if not correlation_id or correlation_id in detail:
        return detail
    return f"{detail.rstrip('.')} (correlation id {correlation_id})"


def _wants_json(request: Request) -> bool:
    if request.url.path.startswith(JSON_PREFIXES):
        return True
    html = request.headers.get("hx-request") or "text/html" in request.headers.get("accept", "")
    return not html


def handle_error(request: Request, exc: Exception) -> Response[Any]:
    status, code, detail = code_and_detail(exc)
    if status >= 500:
        detail = with_reference(detail)
    if status == 500:
        log.error("http.failed", path=request.url.path, error=code, exc_info=exc)
    elif status > 500:
        log.warning("http.unavailable", path=request.url.path, error=code, detail=detail)
    headers = getattr(exc, "headers", None) or {}
    if code == ErrorCode.BUSY:
        headers = {**headers, "Retry-After": str(RETRY_AFTER_S)}
    if _wants_json(request) or status == 405:
        return Response(
            ErrorBody(error=code, detail=detail),
            status_code=status,
            media_type=MediaType.JSON,
            headers=headers,
        )
    template = "partials/alert.html" if request.headers.get("hx-request") else "error.html"
    return Template(
        template,
        context={"status": status, "error": code, "detail": detail, "kind": "error"},
        status_code=status,
        headers=headers,  # Retry-After on a page too
    )


EXCEPTION_HANDLERS = {
    DomainError: handle_error,
    HTTPException: handle_error,
    Exception: handle_error,
}
