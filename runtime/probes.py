"""Per-process probes: `GET /livez` and `GET /readyz` on SIMTUNE_PROBE_PORT.

`qry.<context>.health` is answered by whichever replica takes it, so it speaks for the
service, not for the process a kubelet (or compose) is about to restart or take out of
rotation. Each process therefore answers for itself, over plain HTTP on a port of its own:

- `/livez`: 200 while its projector and reactor loops, background loops and endpoints run;
  503 otherwise. A lost NATS or database does not make a process dead: it reconnects by
  itself, and restarting it would not bring either back.
- `/readyz`: 200 when NATS is connected, every reactor's consumers are bound, the database
  answers and no projection is stuck or more than SIMTUNE_READY_MAX_LAG events behind.

A failing answer is JSON naming the checks and their states ("nats": "disconnected"), never
an error's text: the probe port is reachable by anything in the pod's network.

The server is `asyncio.start_server` (no dependency): one request per connection, the
request line and headers read with a bounded buffer and a deadline, anything else refused.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import text

from runtime.logs import get_logger

log = get_logger(__name__)

READ_TIMEOUT_S = 5.0  # a client that sends no request in this long is dropped
CHECK_TIMEOUT_S = 3.0  # one check (the database, a projection's lag) at most this long
MAX_LINE = 4096  # bytes of a request line or header line
MAX_HEADERS = 64
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


async def liveness(host: Any) -> dict[str, str]:
    """Each loop of `host` (a started `ServiceHost`) by name: "running" or not. The server
    starts once the host has and stops before the host stops, so a started host it is."""
    states: dict[str, str] = {}
    for name, projector in host.projectors.items():
        states[f"projection {name}"] = "running" if projector.alive else "stopped"
    for reactor in host.reactors:
        state = reactor.health()["state"]
        states[f"reactor {reactor.name}"] = "running" if state == "running" else state
    for task in host.loops:
        states[f"loop {task.get_name()}"] = "stopped" if task.done() else "running"
    states["endpoints"] = "running" if host.endpoints.running else "stopped"
    return states


async def readiness(host: Any) -> dict[str, str]:
    """The state of each thing a ready process needs, by name."""
    states: dict[str, str] = {}
    nats_up = host.nc is not None and host.nc.is_connected
    states["nats"] = "connected" if nats_up else "disconnected"
    for reactor in host.reactors:
        bound = reactor.health()["state"] == "running"
        states[f"reactor {reactor.name}"] = "bound" if bound else "unbound"
    states["database"] = "reachable" if await _database_answers(host.engine) else "unreachable"
    if nats_up and states["database"] == "reachable":
        for name, projector in host.projectors.items():
            states[f"projection {name}"] = await _projection_state(
                projector, host.settings.ready_max_lag
            )
    return states


async def _database_answers(engine) -> bool:
    async def select_one() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(select_one(), CHECK_TIMEOUT_S)
    except Exception:
        return False
    return True


async def _projection_state(projector, max_lag: int) -> str:
    try:
        health = await asyncio.wait_for(projector.health(), CHECK_TIMEOUT_S)
    except Exception:
        return "unknown"
    if health.failing:
        return health.state
    return "behind" if health.lag > max_lag else "caught up"


FAILING = {"stopped", "disconnected", "unbound", "unreachable", "unknown", "behind"}
FAILING |= {"stuck", "failed"}


class ProbeServer:
    """Serves `/livez` and `/readyz` for one `ServiceHost` on `port` at `bind`."""

    def __init__(self, host: Any, bind: str, port: int) -> None:
        self.host, self.bind, self.port = host, bind, port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.bind, self.port, limit=MAX_LINE, reuse_address=True
        )
        log.info("probes.serving", service=self.host.name, port=self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, body = await asyncio.wait_for(self._answer(reader), READ_TIMEOUT_S * 2)
            payload = json.dumps(body).encode()
            head = (
                f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nCache-Control: no-store\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode() + payload)
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass  # a client that went away, sent too much or too slowly: nothing to answer
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, dict]:
        line = await asyncio.wait_for(reader.readline(), READ_TIMEOUT_S)
        for _ in range(MAX_HEADERS):  # the headers say nothing a probe needs
            header = await asyncio.wait_for(reader.readline(), READ_TIMEOUT_S)
            if header in (b"\r\n", b"\n", b""):
                break
        else:
            return 400, {"status": "failing", "detail": "too many headers"}
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return 400, {"status": "failing", "detail": "not an HTTP request"}
        method, path = parts[0], parts[1].split("?", 1)[0]
        if path not in ("/livez", "/readyz"):
            return 404, {"status": "failing", "detail": "only /livez and /readyz are served"}
        if method != "GET":
            return 405, {"status": "failing", "detail": "only GET is served"}
        states = await (liveness if path == "/livez" else readiness)(self.host)
        failing = sorted(name for name, state in states.items() if state in FAILING)
        if failing:
            return 503, {"status": "failing", "failing": failing, "checks": states}
        return 200, {"status": "ok", "checks": states}


async def serve_probes(host: Any) -> ProbeServer | None:
    """Start the probe server of `host` when its settings name a port (else None)."""
    settings = host.settings
    if settings.probe_port is None:
        return None
    server = ProbeServer(host, settings.probe_host, settings.probe_port)
    await server.start()
    return server
