"""With OTEL_EXPORTER_OTLP_ENDPOINT set, every process sends its spans and metrics to an OTLP
collector: one request through the gateway is one trace across the gateway, the expert
service and its projector, each process under its own `service.name`, and the gateway's
log line of the request carries the same trace id.

The collector is a real OTLP/HTTP receiver in this test, decoding the protobuf requests with
the classes the exporter itself is built on; the services and the gateway are real processes
started with nothing but the environment a deployment would give them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from runtime.devstack.util import free_port
from tests.support.accounts import owner
from tests.support.processes import ROOT, Processes, wait_for_service
from tests.support.servers import TEST_ENV, admin_connect, own_servers
from tests.support.waiting import until

pytestmark = pytest.mark.integration


class Collector:
    """An OTLP/HTTP receiver: what arrived on /v1/traces and /v1/metrics, decoded."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, str]] = []  # (service.name, span name, trace id)
        self.metrics: list[tuple[str, str]] = []  # (service.name, metric name)
        self.lock = threading.Lock()

    def received(self, path: str, body: bytes) -> bool:
        if path == "/v1/traces":
            request = ExportTraceServiceRequest.FromString(body)
            found = [
                (_service(rs.resource), span.name, span.trace_id.hex())
                for rs in request.resource_spans
                for ss in rs.scope_spans
                for span in ss.spans
            ]
            with self.lock:
                self.spans += found
            return True
        if path == "/v1/metrics":
            request = ExportMetricsServiceRequest.FromString(body)
            found = [
                (_service(rm.resource), metric.name)
                for rm in request.resource_metrics
                for sm in rm.scope_metrics
                for metric in sm.metrics
            ]
            with self.lock:
                self.metrics += found
            return True
        return False


def _service(resource) -> str:
    names = [a.value.string_value for a in resource.attributes if a.key == "service.name"]
    return names[0] if names else ""


@pytest.fixture
def collector() -> Iterator[tuple[Collector, str]]:
    sink = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            ok = sink.received(self.path, body)
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.timeout(120)
async def test_one_request_is_one_exported_trace_across_processes_with_metrics(
    collector, tmp_path: Path
) -> None:
    sink, endpoint = collector
    port = free_port()
    with own_servers("simtune-otlp-") as where:
        env = {
            **TEST_ENV,
            **where,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HF_HUB_OFFLINE": "1",
            "SIMTUNE_PORT": str(port),
            "SIMTUNE_LOG_FORMAT": "json",
            "SIMTUNE_LOG_LEVEL": "info",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,  # alone: SIMTUNE_OTEL_EXPORTER is unset
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "OTEL_METRIC_EXPORT_INTERVAL": "500",
        }
        procs = Processes(env, tmp_path)
        gateway_log = tmp_path / "gateway.log"
        with open(gateway_log, "ab") as log:
            gateway = subprocess.Popen(
                [sys.executable, "-m", "gateway"], cwd=ROOT, env=env, stdout=log, stderr=log
            )
        try:
            for context in ("accounts", "expert"):
                procs.start(context)
            nc = await admin_connect(where["NATS_URL"], where["SIMTUNE_HOME"])
            try:
                for context in ("accounts", "expert"):
                    await wait_for_service(nc, context, timeout=60)
                person = await owner(nc)
            finally:
                await nc.close()
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, headers=person.headers) as api:

                async def listening() -> bool:
                    try:
                        await api.get("/health")
                    except httpx.TransportError:
                        return False
                    return True

                await until(listening, 60, "the gateway listening")
                created = await api.post("/api/experts", json={"name": "Exported"})
                assert created.status_code == 201, created.text

            def one_trace() -> str | None:
                with sink.lock:
                    spans = list(sink.spans)
                by_trace: dict[str, set[tuple[str, str]]] = {}
                for service, name, trace_id in spans:
                    by_trace.setdefault(trace_id, set()).add((service, name))
                for trace_id, seen in by_trace.items():
                    services = {service for service, _ in seen}
                    names = {name for _, name in seen}
                    if (
                        {"gateway", "expert"} <= services
                        and ("expert", "cmd.expert.create") in seen
                        and ("expert", "project expert.ExpertCreated") in seen
                        and any(name.startswith("POST /api/experts") for name in names)
                    ):
                        return trace_id
                return None

            trace_id = await until(one_trace, 30, "one trace gateway -> expert -> projector")

            def exported_metrics() -> set[tuple[str, str]]:
                with sink.lock:
                    return set(sink.metrics)

            wanted = {
                ("gateway", "simtune.http.server.duration"),
                ("expert", "simtune.rpc.server.duration"),
                ("expert", "simtune.projection.events"),
            }
            await until(lambda: wanted <= exported_metrics(), 30, f"the metrics {wanted}")

            def logged_with_trace() -> bool:
                for line in gateway_log.read_text(errors="replace").splitlines():
                    if not line.startswith("{"):
                        continue
                    entry = json.loads(line)
                    if entry.get("event") == "http.request" and entry.get("path") == "/api/experts":
                        return entry.get("trace_id") == trace_id
                return False

            await until(logged_with_trace, 10, "the gateway's log line with the trace id")
        finally:
            gateway.terminate()
            procs.stop_all()
            gateway.wait(15)
