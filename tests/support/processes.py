"""Services as real processes of their own (`python -m services.<context>`), so that a kill
is a real crash: what a test starts, kills with SIGKILL and stops, and how it waits until a
service answers its health ping."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

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
