"""Services as real processes of their own (`python -m services.<context>`), so that a kill
is a real crash: what a test starts, kills with SIGKILL and stops, and how it waits until a
service answers its health ping; `own_processes` gives a test all of it on servers of its own."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.support.servers import admin_connect, own_servers

ROOT = Path(__file__).resolve().parents[2]


class Processes:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.procs = env, logs, {}

    def start(self, context: str) -> None:
        log = open(self.logs / f"{context}.log", "ab")  # noqa: SIM115 - closed with the process
        self.procs[context] = subprocess.Popen(
            [sys.executable, "-m", f"services.{context}"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
        )

    def tail(self, context: str, lines: int = 15) -> str:
        """The last `lines` lines `context`'s processes wrote, for a failing test to show."""
        log = self.logs / f"{context}.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self, context: str) -> None:
        proc = self.procs.pop(context)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


async def wait_for_service(nc, name: str, timeout: float = 90.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await nc.request(f"$SRV.PING.{name}", b"", timeout=1)
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.3)


@asynccontextmanager
async def own_processes(
    prefix: str, settings: dict[str, str], keep_home: bool = False
) -> AsyncIterator[tuple[Processes, object, dict[str, str]]]:
    """NATS and Postgres of the test's own (`own_servers`), the services' environment pointed
    at them with JSON logs, no model downloads, a 2 s redelivery (so work a killed process
    held comes back quickly) and `settings`; yields the `Processes` to start services with
    (logging into the home), an admin NATS connection and the servers' settings. Every
    process is stopped and the connection closed at the end."""
    with own_servers(prefix, keep_home=keep_home) as servers:
        env = {
            **os.environ,
            **servers,
            "SIMTUNE_WORK_ACK_WAIT_S": "2",
            "SIMTUNE_LOG_FORMAT": "json",
            "HF_HUB_OFFLINE": "1",
            **settings,
        }
        procs = Processes(env, Path(servers["SIMTUNE_HOME"]))
        nc = await admin_connect(servers["NATS_URL"], servers["SIMTUNE_HOME"])
        try:
            yield procs, nc, servers
        finally:
            procs.stop_all()
            await nc.close()
