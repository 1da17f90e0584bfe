"""The health check a service's container runs: `python deploy/probe.py live|ready <context>`.

A service listens on no port; what it offers to be asked is NATS: `qry.<context>.health`
(`GetHealth`), answered by a replica of the service with the state of its projections and
reactors, the same report the gateway's `/health` gathers. This probe asks it as the
container's own NATS user (NATS_USER / NATS_PASSWORD, as the service signs in) and exits
0 or 1 with one line saying why:

- `ready`: NATS answers and the service answers with no projection stuck and no reactor
  failed.
- `live`: the service answers at all. When NATS itself cannot be reached the probe cannot
  judge the process and passes: restarting every service while NATS is away would not bring
  it back, and the services reconnect by themselves.

The answer comes from whichever replica takes the request (the health subject is a queue
group), so with several replicas it speaks for the service, not for this one process; a
per-process probe (each process's own loops, consumers, database, lag) is for the service
host to offer, and this file names what the deployment asks in the meantime.
"""

from __future__ import annotations

import asyncio
import sys

import nats

from contracts.base import DomainError, GetHealth
from runtime.nats_auth import connect_options
from runtime.rpc import ask
from runtime.settings import SettingsError, load_settings

TIMEOUT_S = 2.0
KINDS = ("live", "ready")


async def probe(kind: str, context: str) -> tuple[bool, str]:
    """Whether the `kind` check of the `context` service passes, and why."""
    settings = load_settings()
    try:
        # One try, bounded: nats-py would otherwise go on trying to connect for minutes.
        nc = await asyncio.wait_for(
            nats.connect(
                settings.nats_url,
                name=f"{context}-probe",
                connect_timeout=TIMEOUT_S,
                allow_reconnect=False,
                max_reconnect_attempts=0,
                error_cb=_quiet,
                **connect_options(settings, context),
            ),
            TIMEOUT_S,
        )
    except Exception as exc:  # refused, unknown host, bad credentials, timeout
        reason = f"cannot reach NATS at {settings.nats_url}: {str(exc) or type(exc).__name__}"
        return kind == "live", reason
    try:
        health = await ask(nc, GetHealth(), timeout=TIMEOUT_S, context=context)
    except DomainError as err:
        return False, err.detail
    finally:
        await nc.close()
    failing = [f"{c.name}: {c.detail or c.state}" for c in health.components if c.failing]
    if kind == "ready" and failing:
        return False, "; ".join(failing)
    return True, f"{context} answers ({len(health.components)} components)"


async def _quiet(_error: Exception) -> None:
    """nats-py logs each failed attempt with its traceback; the probe says it in one line."""


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in KINDS:
        print("usage: python deploy/probe.py live|ready <context>", file=sys.stderr)
        return 2
    try:
        ok, reason = asyncio.run(probe(*argv))
    except SettingsError as exc:
        ok, reason = False, str(exc)
    print(f"{argv[0]} {argv[1]}: {'ok' if ok else 'failing'}: {reason}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
