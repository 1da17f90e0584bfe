"""``python -m runtime.devstack up|cluster|servers``: the development stack from one command.

``up``       runs NATS, Postgres, the services and the gateway in the foreground.
``cluster``  the same as a cluster on this machine (``make run-cluster``): three clustered
             NATS servers, and every service and the gateway ``--replicas`` times.
``servers``  runs only NATS and Postgres and prints ``export`` lines for a shell, so that
             one service can be run by hand (e.g. under a debugger).

With ``DATABASE_URL`` set, ``up`` and ``cluster`` use that Postgres (it must answer, and have
the ``vector`` extension or let this role create it) and start no embedded one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import signal
import sys
import threading
from collections.abc import Sequence

from runtime.devstack.cluster import DEFAULT_REPLICAS, ClusterStack
from runtime.devstack.nats_server import EmbeddedNats, NatsStartError
from runtime.devstack.postgres import EmbeddedPostgres, PostgresStartError
from runtime.devstack.supervisor import Stack, StackError
from runtime.settings import Settings, SettingsError, load_settings


def _up(settings: Settings, health_timeout: float, replicas: int | None = None) -> int:
    # a Postgres named in the environment is used as it is (Settings has a default URL, so
    # only the variable itself says that someone chose one)
    env = {"DATABASE_URL": url} if (url := os.environ.get("DATABASE_URL")) else {}
    if replicas is None:
        stack = Stack.from_settings(settings, health_timeout=health_timeout, env=env)
    else:
        stack = ClusterStack.from_settings(
            settings, replicas=replicas, health_timeout=health_timeout, env=env
        )
    try:
        return asyncio.run(stack.run())
    except StackError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _servers(settings: Settings, nats_port: int) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    nats = EmbeddedNats(settings.home / "nats", port=nats_port or None)
    postgres = EmbeddedPostgres(settings.home / "pg" / "data")
    try:
        nats.start()
        postgres.start()
        print(f"export NATS_URL={shlex.quote(nats.url)}")
        print(f"export DATABASE_URL={shlex.quote(postgres.url)}")
        print(f"export SIMTUNE_HOME={shlex.quote(str(settings.home))}", flush=True)
        print("# NATS and Postgres are running; Ctrl-C to stop them.", file=sys.stderr)
        while not stop.wait(0.5):
            pass
        return 0
    except (NatsStartError, PostgresStartError) as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    finally:
        postgres.stop()
        nats.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m runtime.devstack", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run the whole stack in the foreground")
    up.add_argument("--health-timeout", type=float, default=120.0, metavar="SECONDS")
    cluster = sub.add_parser("cluster", help="run the whole stack as a cluster of processes")
    cluster.add_argument(
        "--replicas",
        type=int,
        default=DEFAULT_REPLICAS,
        metavar="N",
        help=f"processes of each service and of the gateway (default {DEFAULT_REPLICAS})",
    )
    cluster.add_argument("--health-timeout", type=float, default=180.0, metavar="SECONDS")
    servers = sub.add_parser("servers", help="run only NATS and Postgres")
    servers.add_argument("--nats-port", type=int, default=0, help="default: a free port")
    args = parser.parse_args(argv)
    if args.command == "cluster" and args.replicas < 1:
        parser.error(f"--replicas must be at least 1, got {args.replicas}")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 2
    if args.command == "up":
        return _up(settings, args.health_timeout)
    if args.command == "cluster":
        return _up(settings, args.health_timeout, args.replicas)
    return _servers(settings, args.nats_port)


if __name__ == "__main__":
    sys.exit(main())
