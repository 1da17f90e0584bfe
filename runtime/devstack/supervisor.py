"""The one-command development stack: NATS + Postgres + the Simtune services + gateway."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.text import Text

from contracts.accounts import SETUP_LINK_FILE
from runtime.devstack.children import COLOURS, Child, ChildRunner, RestartPolicy
from runtime.devstack.nats_server import MAX_STORE_ENV, EmbeddedNats
from runtime.devstack.postgres import EmbeddedPostgres, ExternalPostgres, PostgresStartError
from runtime.devstack.util import port_in_use, tail
from runtime.settings import Settings

DEFAULT_CHILDREN: tuple[Child, ...] = (
    Child("expert", "services.expert"),
    Child("ingest", "services.ingest"),
    Child("knowledge", "services.knowledge"),
    Child("dataset", "services.dataset"),
    Child("trainer", "services.trainer"),
    Child("registry", "services.registry"),
    Child("benchmark", "services.benchmark"),
    Child("accounts", "services.accounts"),
    Child("community", "services.community"),
    Child("gateway", "gateway"),
)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVER_CHECK_S = 0.25  # how often the supervisor looks whether NATS and Postgres still run


class StackError(RuntimeError):
    """The stack could not start; the message is meant for the user as is."""


class Stack:
    """Runs EmbeddedNats (``<home>/nats``), EmbeddedPostgres (``<home>/pg/data``) and the
    ``children`` (logs in ``<home>/logs/<name>.log``) until SIGINT/SIGTERM/SIGHUP or
    :meth:`stop`. A Stack runs once: make a new one to run again.

    ``port`` is the gateway's: it must be free at start, and the stack is ready when
    ``GET http://host:port{health_path}`` answers 200. With ``port=None`` there is no
    port check and no health check (the stack is ready once the children are spawned).

    When NATS or Postgres dies, it is started again (same port, socket and data) after
    ``server_restart_delay`` seconds, unless its name is in ``held`` (a test keeping a server
    down on purpose) until it is taken out; ``env`` is added to the children's environment.

    A ``DATABASE_URL`` in ``env`` names a Postgres that is not ours (``ExternalPostgres``):
    no embedded one is started, the URL is checked at start, and the server is never
    restarted by the stack.
    """

    def __init__(
        self,
        home: Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = 8000,
        children: Sequence[Child] = DEFAULT_CHILDREN,
        health_path: str = "/health",
        health_timeout: float = 120.0,
        stop_timeout: float = 10.0,
        policy: RestartPolicy | None = None,
        console: Console | None = None,
        env: Mapping[str, str] | None = None,
        server_restart_delay: float = 0.0,
    ):
        self.home = Path(home).expanduser().resolve()
        self.host, self.port = host, port
        self.health_path, self.health_timeout = health_path, health_timeout
        self.stop_timeout = stop_timeout
        self.extra_env = dict(env or {})
        self.server_restart_delay = server_restart_delay
        self.console = console or Console(soft_wrap=True)
        self.logs_dir = self.home / "logs"
        self.nats = EmbeddedNats(
            self.home / "nats", max_store=self.extra_env.get(MAX_STORE_ENV)
        )  # fmt: skip
        database_url = self.extra_env.get("DATABASE_URL")
        self.postgres: EmbeddedPostgres | ExternalPostgres = (
            ExternalPostgres(database_url)
            if database_url
            else EmbeddedPostgres(self.home / "pg" / "data")
        )
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self.runners = {
            c.name: ChildRunner(
                c,
                log_dir=self.logs_dir,
                policy=policy or RestartPolicy(),
                console=self.console,
                stopping=self._stopping,
                colour=COLOURS[i % len(COLOURS)],
            )
            for i, c in enumerate(children)
        }
        self._tasks: list[asyncio.Task[None]] = []
        self._keepers: list[asyncio.Task[None]] = []
        self.server_restarts = {"nats": 0, "postgres": 0}
        self.held: set[str] = set()  # servers (by name) not to start again while named here

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Stack:
        """A stack for ``settings.home``, serving the gateway on ``settings.host:port``."""
        return cls(settings.home, host=settings.host, port=settings.port, **kwargs)

    @property
    def base_url(self) -> str:
        """The gateway's URL, e.g. ``http://127.0.0.1:8000``."""
        return f"http://{self.host}:{self.port}"

    @property
    def nats_url(self) -> str:
        """Where the children find NATS (every node's URL, comma separated, for a cluster)."""
        return self.nats.url

    def nats_servers(self) -> list[tuple[str, EmbeddedNats]]:
        """The NATS servers this stack runs and keeps up, each with its name in messages."""
        return [("nats", self.nats)]

    async def _servers_ready(self) -> None:
        """Wait, once the servers are started, until they can serve the children."""

    def _env_for(self, runner: ChildRunner, env: dict[str, str]) -> dict[str, str]:
        """The environment of `runner`'s child: `env` (:meth:`child_env`) here."""
        return env

    def stop(self) -> None:
        """Ask :meth:`run` to shut everything down (safe to call from a signal handler)."""
        self._stopping.set()

    def child_env(self) -> dict[str, str]:
        """The environment for children: ours plus the servers' URLs and the home dir."""
        env = {**os.environ, **self.extra_env}
        env.update(
            NATS_URL=self.nats.url,
            DATABASE_URL=self.postgres.url,
            SIMTUNE_HOME=str(self.home),
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
        )
        if self.port is not None:
            env.update(SIMTUNE_HOST=self.host, SIMTUNE_PORT=str(self.port))
        return env

    async def run(self, *, handle_signals: bool = True) -> int:
        """Start everything, wait for health, run until stopped, then shut down; return 0.

        Raises :class:`StackError` (after cleaning up) when the stack cannot start.
        """
        if self.port is not None and port_in_use(self.host, self.port):
            raise StackError(
                f"port {self.port} on {self.host} is already in use (is Simtune already "
                f"running?); stop that process or set SIMTUNE_PORT to another port"
            )
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP) if handle_signals else ()
        for sig in signals:
            loop.add_signal_handler(sig, self.stop)
        try:
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            for _, server in self.nats_servers():
                await asyncio.to_thread(server.start)
            try:
                await asyncio.to_thread(self.postgres.start)
            except PostgresStartError as exc:
                raise StackError(str(exc)) from None
            await self._servers_ready()
            self._say(f"NATS at {self.nats_url}; Postgres at {self.postgres.shown_url}", "dim")
            kept = [("postgres", self.postgres)] if self.postgres.managed else []
            for name, server in (*self.nats_servers(), *kept):
                self._keepers.append(asyncio.create_task(self._keep_up(name, server)))
            env = self.child_env()
            for runner in self.runners.values():
                if not self._stopping.is_set():
                    self._tasks.append(asyncio.create_task(runner.run(self._env_for(runner, env))))
            if await self._wait_healthy():
                where = f": {self.base_url}" if self.port is not None else ""
                self.console.print(f"Simtune is running{where} (Ctrl-C to stop)", style="bold")
                self._offer_setup_link()
                self.ready.set()
                await self._stopping.wait()
            return 0
        finally:
            await self._shutdown()
            for sig in signals:
                loop.remove_signal_handler(sig)

    def _offer_setup_link(self) -> None:
        """On a first run, the one-time link that makes its opener the owner (the accounts
        service writes it under SIMTUNE_HOME, readable by this user alone), as Jupyter
        prints its token: the first thing a newcomer needs."""
        link = self.home / SETUP_LINK_FILE
        if link.is_file():
            self.console.print(
                f"No one has an account yet. Open this link to create yours (the owner's):\n"
                f"  {link.read_text().strip()}",
                style="bold green",
            )

    async def _wait_healthy(self) -> bool:
        """True once healthy, False if stopped first; StackError on give-up or timeout."""
        url = f"{self.base_url}{self.health_path}"
        deadline = time.monotonic() + self.health_timeout
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            while not self._stopping.is_set():
                if failed := [r for r in self.runners.values() if r.gave_up]:
                    raise StackError(
                        "\n".join(
                            f"{r.spec.name} ({r.spec.module}) keeps crashing; gave up after "
                            f"{len(r.exit_codes)} crashes. Last lines of {r.log_path}:\n"
                            f"{tail(r.log_path, 12)}"
                            for r in failed
                        )
                    )
                if self.port is None:
                    return True
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        return True
                if time.monotonic() > deadline:
                    raise StackError(self._timeout_message(url))
                await asyncio.sleep(0.25)
        return False

    async def _keep_up(self, name: str, server: EmbeddedNats | EmbeddedPostgres) -> None:
        """Start `server` again whenever it dies (same port, socket and data): the services
        reconnect by themselves, as they would to a server restarted by hand."""
        streak = 0
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), SERVER_CHECK_S)
            if self._stopping.is_set() or server.running or name in self.held:
                continue
            self._say(f"{name} stopped unexpectedly; starting it again", "bold yellow")
            await asyncio.to_thread(server.stop)  # forget the dead process
            if self.server_restart_delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.server_restart_delay)
                if self._stopping.is_set():
                    return
            try:
                await asyncio.to_thread(server.start)
            except Exception as exc:  # an orphaned backend still holds its memory, say
                streak += 1
                delay = RestartPolicy().delay(streak)
                self._say(f"{name} did not start ({exc}); trying again in {delay:g}s", "red")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                continue
            streak = 0
            self.server_restarts[name] += 1
            self._say(f"{name} is running again", "bold green")

    def _timeout_message(self, url: str) -> str:
        lines = [f"{url} did not answer 200 within {self.health_timeout:g}s."]
        troubled = [r for r in self.runners.values() if r.exit_codes or not r.running]
        for r in troubled or list(self.runners.values())[-1:]:
            state = f"exited {len(r.exit_codes)} time(s), codes {r.exit_codes}"
            lines.append(f"{r.spec.name}: {state if r.exit_codes else 'running'}; last lines:")
            lines.append(tail(r.log_path))
        return "\n".join(lines)

    async def _shutdown(self) -> None:
        """Stop the children (in reverse order of start), then NATS and Postgres."""
        self._stopping.set()
        if self._keepers:  # a restart under way finishes before the servers are stopped
            await asyncio.gather(*self._keepers, return_exceptions=True)
        runners = list(self.runners.values())[::-1]
        await asyncio.gather(*(r.terminate(self.stop_timeout) for r in runners))
        if self._tasks:
            done, pending = await asyncio.wait(self._tasks, timeout=5.0)
            for task in pending:
                task.cancel()
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    self._say(f"a supervisor task failed: {task.exception()!r}", "red")
        for r in runners:
            r.close()
        for _, server in self.nats_servers():
            await asyncio.to_thread(server.stop)
        await asyncio.to_thread(self.postgres.stop)

    def _say(self, message: str, style: str = "bold") -> None:
        self.console.print(Text(f"[devstack] {message}", style=style), soft_wrap=True)
