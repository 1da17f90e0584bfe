"""`python -m gateway`: serve the gateway with uvicorn on SIMTUNE_HOST:SIMTUNE_PORT."""

from __future__ import annotations

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
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # gateway.http.observability logs every request with its trace id
        # The client is the connection's peer; only SIMTUNE_TRUSTED_PROXIES may name another in
        # X-Forwarded-For (gateway/accounts/limits.py), not uvicorn's own default of 127.0.0.1
        proxy_headers=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )


main()
