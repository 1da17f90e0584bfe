"""OpenTelemetry: one tracer provider per process, `traceparent` carried in NATS headers.

A request that enters the gateway, reaches a service over NATS and is then projected
stays one trace: the W3C `traceparent` travels in the headers of the request and of the
event appended to JetStream, and each hop starts its span as a child of it.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_propagator = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None


def setup_tracing(service: str, exporter: str = "none") -> TracerProvider:
    """Install the process-wide tracer provider once; later calls return the same one."""
    global _provider
    if _provider is None:
        _provider = TracerProvider(resource=Resource.create({"service.name": service}))
        if exporter == "console":
            _provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        trace.set_tracer_provider(_provider)
    return _provider


def add_span_processor(processor: SpanProcessor) -> None:
    """Attach another processor (tests attach an in-memory exporter)."""
    setup_tracing("simtune").add_span_processor(processor)


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def inject(headers: dict[str, str]) -> dict[str, str]:
    """Write the current span's `traceparent` into `headers` (returned for chaining)."""
    _propagator.inject(headers)
    return headers


def extract(headers: Mapping[str, str] | None) -> otel_context.Context:
    """The context a remote parent left in `headers` (empty context when there is none)."""
    return _propagator.extract(dict(headers or {}))
