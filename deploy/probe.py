"""The health check a service's container runs under compose: `python deploy/probe.py live|ready`.

Every service process answers for itself on SIMTUNE_PROBE_PORT (`runtime/probes.py`):
`/livez` (its loops and endpoints run) and `/readyz` (NATS connected, consumers bound, the
database answering, projections caught up). Kubernetes asks those with `httpGet` on the
container's `probe` port; compose's healthcheck has no HTTP client of its own, so this asks
the process in the same container and exits 0 or 1 with one line saying why. The standard
library only: a check that imports the whole application would cost a second of CPU a time.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

TIMEOUT_S = 5.0
PATHS = {"live": "/livez", "ready": "/readyz"}


def probe(kind: str, port: str) -> tuple[bool, str]:
    """Whether the `kind` check of the process on `port` passes, and why."""
    url = f"http://127.0.0.1:{port}{PATHS[kind]}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 - local
            return True, _checks(response.read())
    except urllib.error.HTTPError as err:
        return False, _checks(err.read())
    except (OSError, ValueError) as exc:  # refused (not started yet), timed out
        return False, f"no answer on {url}: {exc}"


def _checks(body: bytes) -> str:
    try:
        answer = json.loads(body)
        return ", ".join(f"{name}: {state}" for name, state in answer["checks"].items())
    except (ValueError, KeyError, TypeError, AttributeError):
        return "an answer that is not a probe's"


def main(argv: list[str]) -> int:
    port = os.environ.get("SIMTUNE_PROBE_PORT", "")
    if len(argv) != 1 or argv[0] not in PATHS:
        print("usage: python deploy/probe.py live|ready", file=sys.stderr)
        return 2
    if not port.isdigit():
        print(f"{argv[0]}: failing: SIMTUNE_PROBE_PORT is not set to a port")
        return 1
    ok, reason = probe(argv[0], port)
    print(f"{argv[0]}: {'ok' if ok else 'failing'}: {reason}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
