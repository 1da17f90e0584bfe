"""`python -m gateway`: serve the gateway with uvicorn on SIMTUNE_HOST:SIMTUNE_PORT.

With SIMTUNE_REUSE_PORT=1 the port is bound with SO_REUSEPORT, so that several gateway
processes (`make run-cluster`) listen on it together and the kernel spreads the connections
among them; one that dies leaves the others serving.
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn

from gateway.app import create_app
from runtime import telemetry
from runtime.logs import configure_logging
from runtime.settings import SettingsError
from runtime.settings import settings as load_settings

SHUTDOWN_GRACE_S = 5  # open SSE streams never finish on their own


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise SystemExit(f"gateway: {exc}") from None
    configure_logging("gateway", fmt=settings.log_format, level=settings.log_level)
    telemetry.setup_tracing("gateway", settings.otel_exporter)
    app = create_app(settings)
    options: dict[str, Any] = dict(
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # gateway.http.observability logs every request with its trace id
        # The client is the connection's peer; only SIMTUNE_TRUSTED_PROXIES may name another in
        # X-Forwarded-For (gateway/accounts/limits.py), not uvicorn's own default of 127.0.0.1
        proxy_headers=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    if not settings.reuse_port:
        uvicorn.run(app, **options)
        return
    server = uvicorn.Server(uvicorn.Config(app, **options))
    server.run(sockets=[shared_socket(settings.host, settings.port)])
    if not server.started:  # as uvicorn.run ends when the app does not start
        raise SystemExit(3)


def shared_socket(host: str, port: int) -> socket.socket:
    """`host:port` bound with SO_REUSEPORT, which other processes may bind as well."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


main()
