"""Supervised ``python -m <module>`` child processes: output tee, restart with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rich.console import Console
from rich.text import Text

COLOURS = ("cyan", "magenta", "green", "blue", "yellow", "bright_cyan", "bright_magenta")


@dataclass(frozen=True)
class Child:
    """A child process: ``python -m module *args``, called ``name`` in output and logs."""

    name: str
    module: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class RestartPolicy:
    """Restart after ``base_delay * 2**(n-1)`` seconds (at most ``max_delay``), where n
    counts crashes in a row; give up after ``max_crashes`` crashes within ``window`` s."""

    base_delay: float = 1.0
    max_delay: float = 30.0
    max_crashes: int = 5
    window: float = 60.0

    def delay(self, streak: int) -> float:
        """Backoff before restart number ``streak`` (1-based)."""
        return min(self.base_delay * 2 ** max(streak - 1, 0), self.max_delay)


class ChildRunner:
    """Runs one :class:`Child` until ``stopping`` is set, restarting it when it exits."""

    def __init__(
        self,
        spec: Child,
        *,
        log_dir: Path,
        policy: RestartPolicy,
        console: Console,
        stopping: asyncio.Event,
        colour: str = "cyan",
    ):
        self.spec = spec
        self.log_path = log_dir / f"{spec.name}.log"
        self.policy = policy
        self.console = console
        self.stopping = stopping
        self.colour = colour
        self.process: asyncio.subprocess.Process | None = None
        self.crashes: deque[float] = deque()
        self.delays: list[float] = []
        self.exit_codes: list[int] = []
        self.gave_up = False
        self._streak = 0
        self._log: BinaryIO | None = None

    @property
    def running(self) -> bool:
        """Whether the child process is alive right now."""
        return self.process is not None and self.process.returncode is None

    def say(self, message: str, style: str = "bold") -> None:
        """Print a supervisor message about this child and append it to the child's log."""
        self.console.print(Text(f"[devstack] {message}", style=style), soft_wrap=True)
        self._write(f"[devstack] {message}")

    def _write(self, line: str) -> None:
        if self._log is None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self._log.write(line.encode("utf-8", "replace") + b"\n")
        self._log.flush()

    def _emit(self, line: str) -> None:
        prefix = Text(f"{self.spec.name:>10} | ", style=self.colour)
        self.console.print(prefix + Text.from_ansi(line), soft_wrap=True, highlight=False)
        self._write(line)

    async def _pump(self, stream: asyncio.StreamReader) -> None:
        buffer = b""
        while chunk := await stream.read(65536):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                self._emit(raw.rstrip(b"\r").decode("utf-8", "replace"))
            if len(buffer) > 65536:
                self._emit(buffer.decode("utf-8", "replace"))
                buffer = b""
        if buffer:
            self._emit(buffer.decode("utf-8", "replace"))

    async def run(self, env: dict[str, str]) -> None:
        """Start the child and keep it running (with backoff) until stopping or giving up."""
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                self.process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    self.spec.module,
                    *self.spec.args,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                    env=env,
                    process_group=0,  # Ctrl-C reaches the supervisor only; it stops us in order
                )
            except OSError as exc:
                self.gave_up = True
                self.say(f"cannot start {self.spec.name}: {exc}", style="bold white on red")
                return
            if self.stopping.is_set():  # stop was requested while we were spawning
                self.signal(signal.SIGTERM)
            assert self.process.stdout is not None
            pump = asyncio.create_task(self._pump(self.process.stdout))
            code = await self.process.wait()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(pump), 2.0)
            if self.stopping.is_set():
                return
            self._record_crash(code, time.monotonic() - started)
            if self.gave_up:
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), self.delays[-1])

    def _record_crash(self, code: int, ran_for: float) -> None:
        now = time.monotonic()
        self.exit_codes.append(code)
        self.crashes.append(now)
        while self.crashes and now - self.crashes[0] > self.policy.window:
            self.crashes.popleft()
        self._streak = 1 if ran_for >= self.policy.window else self._streak + 1
        count, window = len(self.crashes), self.policy.window
        if count >= self.policy.max_crashes:
            self.gave_up = True
            self.say(
                f"GIVING UP on {self.spec.name}: it crashed {count} times within {window:g}s "
                f"(last exit code {code}). The rest of the stack keeps running. "
                f"See {self.log_path}",
                style="bold white on red",
            )
            return
        delay = self.policy.delay(self._streak)
        self.delays.append(delay)
        self.say(
            f"{self.spec.name} exited with code {code}; restarting in {delay:g}s "
            f"(crash {count} within {window:g}s)",
            style="bold yellow",
        )

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the child's whole process group, if it is running."""
        if self.running and self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, sig)

    async def terminate(self, timeout: float) -> None:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL."""
        self.signal(signal.SIGTERM)
        if self.process is None:
            return
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.say(f"{self.spec.name} did not stop within {timeout:g}s; killing it", "red")
            self.signal(signal.SIGKILL)
            await self.process.wait()

    def close(self) -> None:
        """Close the log file."""
        if self._log is not None:
            self._log.close()
            self._log = None
