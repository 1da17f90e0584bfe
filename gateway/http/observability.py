"""Per-request tracing and logging (an ASGI middleware).

Each HTTP request runs in an OpenTelemetry SERVER span (a child of an incoming
`traceparent`, if any); `runtime.rpc.request` injects that span into the NATS headers, so
gateway -> service -> projector is one trace. Log lines carry `trace_id`, `tenant` and
`correlation_id` (from `X-Correlation-Id`, or a new one, echoed in the response). Each
request's duration is recorded in the `simtune.http.server.duration` histogram by route
template (not path: ids would make a series per expert) and status.
"""

from __future__ import annotations

import time
import uuid

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry.trace import SpanKind, Status, StatusCode

from runtime import telemetry
from runtime.logs import bind_request_context, get_logger

log = get_logger("gateway.http")
tracer = telemetry.tracer("simtune.gateway")
durations = telemetry.meter("simtune.gateway").create_histogram(
    "simtune.http.server.duration", unit="ms", description="HTTP requests the gateway answered"
)
CORRELATION_HEADER = "x-correlation-id"
QUIET_PREFIXES = ("/static/", "/health")


def observe(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        correlation_id = headers.get(CORRELATION_HEADER) or uuid.uuid4().hex
        method, path = scope["method"], scope["path"]
        name = f"{method} {scope.get('path_template') or path}"  # e.g. GET /api/experts/{expert_id}
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (CORRELATION_HEADER.encode(), correlation_id.encode("latin-1")),
                ]
            await send(message)

        started = time.perf_counter()
        with (
            bind_request_context(tenant="local", correlation_id=correlation_id),
            tracer.start_as_current_span(
                name,
                context=telemetry.extract(headers),
                kind=SpanKind.SERVER,
                attributes={"http.request.method": method, "url.path": path},
            ) as span,
        ):
            try:
                await app(scope, receive, send_with_id)
            finally:
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
                durations.record(
                    elapsed_ms,
                    {
                        "http.request.method": method,
                        "http.route": scope.get("path_template") or "unmatched",
                        "http.response.status_code": status,
                    },
                )
                emit = log.debug if path.startswith(QUIET_PREFIXES) and status < 400 else log.info
                emit("http.request", method=method, path=path, status=status, ms=elapsed_ms)

    return middleware
