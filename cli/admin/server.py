"""The one place the CLI speaks NATS instead of HTTP: `simtune admin` on the server machine.

Creating the first owner cannot go through the gateway, which lets no one in before there is
one; so on the machine that runs Simtune, the command sends the accounts context's commands
straight to the embedded NATS. Who can run it is who can read `SIMTUNE_HOME` and reach the
NATS port on 127.0.0.1: the person who runs the server. import-linter lets this module, and
no other module of the CLI, import `runtime` and `nats` (see pyproject.toml).

The NATS URL: `NATS_URL` when it is set, else the port the embedded server was last started
on, from the configuration it writes under `SIMTUNE_HOME` (`runtime.devstack.nats_server`:
`<home>/nats/nats-server.conf`, a `listen: host:port` line). It signs in as NATS's `admin`
user, whose password the server keeps under `SIMTUNE_HOME` (`runtime.nats_auth`; readable
by the server's own user alone), or as `NATS_USER` / `NATS_PASSWORD` when they are set."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import nats
from nats.errors import Error as NatsError

from cli.client import CliError
from contracts.base import DomainError, Message
from runtime.nats_auth import ADMIN, connect_options
from runtime.rpc import ask
from runtime.settings import SettingsError, load_settings

LISTEN = re.compile(r"^\s*listen:\s*(\S+):(\d+)\s*$", re.MULTILINE)
CONNECT_TIMEOUT_S = 3


def home() -> Path:
    """SIMTUNE_HOME, by the same rules as the services read it."""
    try:
        return load_settings().home
    except SettingsError as exc:
        raise CliError(str(exc)) from exc


def nats_config(simtune_home: Path) -> Path:
    return simtune_home / "nats" / "nats-server.conf"


def nats_url() -> str:
    """Where the running stack's NATS listens: `NATS_URL`, else what SIMTUNE_HOME records."""
    configured = os.environ.get("NATS_URL", "").strip()
    if configured:
        return configured
    where = home()
    config = nats_config(where)
    try:
        text = config.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(
            f"Simtune has not run with SIMTUNE_HOME={where} (there is no {config}): run this"
            " on the server machine with the SIMTUNE_HOME that `make run` uses, or set NATS_URL"
        ) from None
    except OSError as exc:
        raise CliError(f"cannot read {config}: {exc.strerror}") from exc
    found = LISTEN.search(text)
    if found is None:
        raise CliError(f"{config} names no port to listen on; set NATS_URL")
    return f"nats://{found.group(1)}:{found.group(2)}"


def _credentials() -> dict[str, str]:
    """How `simtune admin` signs in to NATS: as `admin` (see the module's docstring)."""
    try:
        return connect_options(load_settings(), ADMIN)
    except SettingsError as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"cannot read Simtune's NATS credentials: {exc}") from exc


async def _connect(url: str) -> nats.NATS:
    """A connection to `url` as NATS's admin user, or one CliError saying why there is none.
    The client's own error log stays quiet (the failure is told once, here), and it gives up
    after one retry: with no limit it would try forever."""
    errors: list[BaseException] = []
    credentials = _credentials()

    async def remember(error: Exception) -> None:
        errors.append(error)

    try:
        return await asyncio.wait_for(
            nats.connect(
                url,
                name="simtune-cli-admin",
                connect_timeout=CONNECT_TIMEOUT_S,
                max_reconnect_attempts=1,
                reconnect_time_wait=0.2,
                error_cb=remember,
                **credentials,
            ),
            timeout=2 * CONNECT_TIMEOUT_S + 1,
        )
    except (OSError, TimeoutError, NatsError) as exc:
        why = errors[-1] if errors else exc
        if "authorization violation" in str(why).lower():
            raise CliError(
                f"Simtune's NATS at {url} refused the admin credentials: run this as the user"
                " that runs Simtune, with the SIMTUNE_HOME it uses (or set NATS_USER and"
                " NATS_PASSWORD)"
            ) from None
        raise CliError(
            f"cannot reach Simtune's NATS at {url} ({why or type(why).__name__}): is `make run`"
            " running on this machine?"
        ) from None


async def _ask(url: str, message: Message, timeout: float) -> Any:
    nc = await _connect(url)
    try:
        return await ask(nc, message, timeout=timeout)
    finally:
        await nc.close()


def send(message: Message, timeout: float = 10.0) -> Any:
    """Send a command or query of the accounts context and return its reply; a refusal or an
    unreachable server is a CliError of one line."""
    url = nats_url()
    try:
        return asyncio.run(_ask(url, message, timeout))
    except DomainError as exc:
        raise CliError(exc.detail) from None
