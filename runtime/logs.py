"""structlog set-up: key=value in a terminal, JSON in production.

Every line logged while handling a request or an event carries `trace_id`, `tenant` and
`correlation_id` (bound with `bind_request_context`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from opentelemetry import trace


def _add_trace_id(_logger: object, _name: str, event: dict) -> dict:
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        event.setdefault("trace_id", format(span.trace_id, "032x"))
    return event


def configure_logging(service: str, *, fmt: str = "console", level: str = "info") -> None:
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_trace_id,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)


@contextmanager
def bind_request_context(
    *, tenant: str, correlation_id: str, causation_id: str = ""
) -> Iterator[None]:
    """Who the work in this block is for and what started it; every log line carries them, and
    what the block appends or sends carries the correlation and causation ids on."""
    tokens = structlog.contextvars.bind_contextvars(
        tenant=tenant, correlation_id=correlation_id, causation_id=causation_id
    )
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


def bound(name: str) -> str:
    """A value `bind_request_context` bound for the work in progress ("" outside one)."""
    return structlog.contextvars.get_contextvars().get(name) or ""


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)


def redact_url(url: str) -> str:
    """The URL without its user name and password, fit for a log line."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    location, slash, path = rest.partition("/")
    if "@" in location:
        location = "***@" + location.rsplit("@", 1)[1]
    return f"{scheme}://{location}{slash}{path}"
