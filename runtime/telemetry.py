"""OpenTelemetry: one tracer provider per process, `traceparent` carried in NATS headers.

A request that enters the gateway, reaches a service over NATS and is then projected
stays one trace: the W3C `traceparent` travels in the headers of the request and of the
event appended to JetStream, and each hop starts its span as a child of it.

With the "otlp" exporter (OTEL_EXPORTER_OTLP_ENDPOINT set) spans and metrics go to an OTLP
collector over HTTP/protobuf, each process under its own `service.name` (gateway, ingest,
...). The exporters read the standard OTEL_EXPORTER_OTLP_* variables (endpoint, headers,
timeout) and OTEL_METRIC_EXPORT_INTERVAL themselves. Spans are sent in batches off the hot
path; what is still queued is sent when the process exits (`shutdown`, also run at exit).
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_propagator = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None
_meters: MeterProvider | None = None


def setup_tracing(service: str, exporter: str = "none") -> TracerProvider:
    """Install the process-wide tracer provider once (and, for "otlp", the meter provider);
    later calls return the same one."""
    global _provider, _meters
    if _provider is None:
        resource = Resource.create({"service.name": service})
        _provider = TracerProvider(resource=resource)
        if exporter == "console":
            _provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        elif exporter == "otlp":
            # imported only here: a process that exports nothing never loads the exporter
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            _meters = MeterProvider(
                resource=resource,
                metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())],
            )
            metrics.set_meter_provider(_meters)
        trace.set_tracer_provider(_provider)
    return _provider


def shutdown() -> None:
    """Send what is still queued (spans of the last requests, the last metric readings) and
    stop the exporters; the SDK also runs this at interpreter exit."""
    if _provider is not None:
        _provider.shutdown()
    if _meters is not None:
        _meters.shutdown()


def add_span_processor(processor: SpanProcessor) -> None:
    """Attach another processor (tests attach an in-memory exporter)."""
    setup_tracing("simtune").add_span_processor(processor)


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def meter(name: str) -> metrics.Meter:
    """A meter for instruments made at import time: until `setup_tracing` installs a provider
    they record nothing, then they record into it (the API's proxy meter)."""
    return metrics.get_meter(name)


def inject(headers: dict[str, str]) -> dict[str, str]:
    """Write the current span's `traceparent` into `headers` (returned for chaining)."""
    _propagator.inject(headers)
    return headers


def extract(headers: Mapping[str, str] | None) -> otel_context.Context:
    """The context a remote parent left in `headers` (empty context when there is none)."""
    return _propagator.extract(dict(headers or {}))
