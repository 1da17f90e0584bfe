"""Who connects to NATS as whom, and what each may publish.

NATS is where every command, query and event passes, so a process that could connect to it
anonymously could send any tenant's commands or write any context's events onto the log.
The embedded server therefore knows one user per service, one for the gateway and one
`admin` (operators, `simtune admin`, tests), and refuses every other connection.

Each user's password is made once per SIMTUNE_HOME, at random, and kept in
`<home>/nats/users/<name>.json` (the folder 0700, each file 0600): the one place both the
server's configuration and the processes that connect read it from. A deployment that runs
its own NATS sets `NATS_USER` / `NATS_PASSWORD` for each process instead.

What a user may publish (`PUBLISH`) is the heart of it: a service appends only its own
context's events (`evt.<context>.>`); the gateway appends none. Every non-admin user may
send any command or query (`cmd.>`, `qry.>`): which service asks which others is decided
deep in their code (a benchmark asks the expert, the registry and the dataset service; the
trainer asks the dataset service), and a list kept by hand beside it would break silently at
the next new question. The log is what must not be forged, and that is per context. No user
but admin may delete, purge or reconfigure an event stream through the JetStream API.
Subscribing is left open to every user that signed in: replies, JetStream deliveries and
the gateway's live feeds all arrive on subscriptions, and reading is not what this guards.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from pathlib import Path

from contracts.answers import EVERY_CANCEL, EVERY_STREAM
from contracts.base import EVERY_COMMAND, EVERY_QUERY
from contracts.events import STREAMS
from runtime.settings import Settings

SERVICES = tuple(sorted(STREAMS))  # one NATS user per context: accounts, benchmark, ...
GATEWAY = "gateway"
ADMIN = "admin"  # everything: operators, `simtune admin`, tests' own connections
USERS = (*SERVICES, GATEWAY, ADMIN)

# What every user but admin may publish: commands and queries (any context's), replies to
# requests (`_INBOX.`), the JetStream API and its acknowledgements and flow control, object
# store chunks (`$O.`, uploads and adapters) and key-value buckets (`$KV.`, reactor holds).
SHARED = (
    EVERY_COMMAND,
    EVERY_QUERY,
    "_INBOX.>",
    "$JS.API.>",
    "$JS.ACK.>",
    "$JS.FC.>",
    "$O.>",
    "$KV.>",
)
# The log is append-only for everyone but admin: no stream of events deleted, purged,
# reconfigured or cut short a message at a time.
LOG_GUARD = tuple(
    f"$JS.API.STREAM.{verb}.{stream}"
    for stream in sorted(STREAMS.values())
    for verb in ("DELETE", "UPDATE", "PURGE", "MSG.DELETE")
)


def _service_publishes(context: str) -> tuple[str, ...]:
    own = [f"evt.{context}.>", "projected.>"]  # its events; what its projections committed
    if context == "expert":
        own.append(EVERY_STREAM)  # an answer's frames, as they are generated
    return (*own, *SHARED)


PUBLISH: dict[str, tuple[str, ...]] = {
    **{context: _service_publishes(context) for context in SERVICES},
    # commands and queries, an answer's cancel, and the services' `$SRV.PING` (health)
    GATEWAY: (EVERY_CANCEL, "$SRV.>", *SHARED),
}
DENY: dict[str, tuple[str, ...]] = {
    **{context: LOG_GUARD for context in SERVICES},
    GATEWAY: ("evt.>", *LOG_GUARD),  # said outright: the gateway writes no event, ever
}


def users_dir(home: Path) -> Path:
    """Where SIMTUNE_HOME keeps the NATS users' passwords (the embedded server's data dir is
    `<home>/nats`; see runtime.devstack.nats_server)."""
    return Path(home) / "nats" / "users"


def ensure_credentials(folder: Path) -> dict[str, str]:
    """Every user's password (name → password), each made at random the first time and kept
    in `folder/<name>.json` (mode 0600; the folder 0700, tightened if it was looser)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) != 0o700:
        folder.chmod(0o700)
    passwords = {}
    for name in USERS:
        found = read_credentials(folder, name)
        if found is None:
            found = {"user": name, "password": secrets.token_urlsafe(32)}
            write_private(folder / f"{name}.json", json.dumps(found))
        passwords[name] = found["password"]
    return passwords


def read_credentials(folder: Path, name: str) -> dict[str, str] | None:
    """`{"user", "password"}` for `name` from `folder`, or None when it has none."""
    try:
        found = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return {"user": str(found["user"]), "password": str(found["password"])}


def connect_options(settings: Settings, name: str) -> dict[str, str]:
    """The `nats.connect(**…)` options that sign `name` in: `NATS_USER` / `NATS_PASSWORD`
    when set, else `name`'s password under SIMTUNE_HOME. None of either: no options, and a
    server that requires credentials refuses the connection."""
    if settings.nats_user is not None and settings.nats_password is not None:
        return {"user": settings.nats_user, "password": settings.nats_password}
    return read_credentials(users_dir(settings.home), name) or {}


def authorization_config(passwords: dict[str, str]) -> str:
    """The server configuration's `authorization` block: each user with its password and,
    but for admin, what it may publish. No user is taken for a connection without
    credentials (no `no_auth_user`), so such a connection is refused."""
    lines = ["authorization {", "  users = ["]
    for name in USERS:
        entry = f"    {{user: {json.dumps(name)}, password: {json.dumps(passwords[name])}"
        if name in PUBLISH:
            allow, deny = json.dumps(list(PUBLISH[name])), json.dumps(list(DENY[name]))
            entry += f", permissions: {{publish: {{allow: {allow}, deny: {deny}}}}}"
        lines.append(entry + "}")
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> None:
    """Write `path` readable by this user alone, whole or not at all."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
