"""A stand-in service for supervisor tests: ``python -m tests.support.crashy_child MODE``.

Modes: ``crash`` prints a line and exits 1; ``sleep`` runs until SIGTERM; ``health``
serves ``GET /health`` (200) on SIMTUNE_HOST:SIMTUNE_PORT until SIGTERM; ``stubborn``
ignores SIGTERM (to test the SIGKILL escalation).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def main(mode: str) -> int:
    """Behave as ``mode`` says; the return value is the exit status."""
    print(f"crashy_child {mode} pid={os.getpid()} nats={os.environ.get('NATS_URL')}", flush=True)
    if mode == "crash":
        print("boom: exiting with 1", file=sys.stderr, flush=True)
        return 1
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if mode == "health":
        host, port = os.environ["SIMTUNE_HOST"], int(os.environ["SIMTUNE_PORT"])
        ThreadingHTTPServer((host, port), _Health).serve_forever()
    while True:
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "crash"))
