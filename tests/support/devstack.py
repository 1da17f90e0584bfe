"""The whole development stack (`make run`'s supervisor) with every component a real
process, for tests that crash one of them: SIGKILL a service, NATS or Postgres by its pid
and watch the supervisor bring it back."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
from rich.console import Console

from contracts.base import DomainError
from runtime.devstack import RestartPolicy, Stack
from runtime.devstack.util import free_port
from tests.support.accounts import Person, owner
from tests.support.servers import TEST_ENV, admin_connect

T = TypeVar("T")

# The in-process stack's settings (`TEST_ENV`: small uploads and chunks, short redelivery),
# JSON logs, a trainer that needs few examples and ticks no schedule, short benchmarks.
STACK_ENV = {
    **TEST_ENV,
    "SIMTUNE_LOG_FORMAT": "json",
    "FINETUNE_MIN_TRACES": "6",
    "FINETUNE_SCHEDULE": "off",
    "SIMTUNE_TRAIN_RESTARTS": "1",
    "SIMTUNE_BENCH_MAX_TOKENS": "8",
    "SIMTUNE_BENCH_AFTER_TRAINING": "off",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}
# A killed service comes back within a second or two, and a few kills in a minute (every
# service's connection lost with NATS, say) are no reason to give up on it.
QUICK = RestartPolicy(base_delay=0.5, max_delay=4.0, max_crashes=8, window=60.0)


async def owner_of(stack: Stack) -> Person:
    """The stack's owner, made as `simtune admin users create` makes one: over its NATS."""
    conn = await admin_connect(stack.nats.url, stack.home)
    try:
        return await owner(conn)
    finally:
        await conn.close()


@asynccontextmanager
async def running_stack(
    prefix: str,
    env: dict[str, str],
    *,
    health_timeout: float = 300.0,
    with_owner: bool = True,
    shape: type[Stack] = Stack,
    **options: Any,
) -> AsyncIterator[Stack]:
    """A `shape` (`Stack`, or `ClusterStack` with its `options`) of every service in a new
    home, healthy on entry, stopped (and the home removed) on exit. Its console output (every
    child's lines) is kept in `stack.output`; its temporary files (an upload being received,
    say) go to `<home>/tmp`. `stack.owner` is its owner, with an API key (unless
    `with_owner=False`)."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    (home / "tmp").mkdir()
    out = io.StringIO()
    stack = shape(
        home,
        port=free_port(),
        env={**STACK_ENV, "TMPDIR": str(home / "tmp"), **env},
        policy=QUICK,
        health_timeout=health_timeout,
        console=Console(file=out, width=300, force_terminal=False),
        **options,
    )
    stack.output = out  # type: ignore[attr-defined]
    run = asyncio.create_task(stack.run(handle_signals=False))
    ready = asyncio.create_task(stack.ready.wait())
    await asyncio.wait({run, ready}, return_when=asyncio.FIRST_COMPLETED)
    try:
        if run.done():
            run.result()  # the StackError that says why it did not start
            raise AssertionError("the stack ended before it was ready")
        if with_owner:  # else the stack waits for its first owner, as a first `make run` does
            stack.owner = await owner_of(stack)  # type: ignore[attr-defined]
        yield stack
    finally:
        ready.cancel()
        stack.stop()
        await asyncio.wait_for(run, 180)
        shutil.rmtree(home, ignore_errors=True)


def child_pid(stack: Stack, name: str) -> int:
    """The pid of the running child process called `name` ("gateway", "trainer", ...)."""
    runner = stack.runners[name]
    assert runner.running and runner.process is not None, f"{name} is not running"
    return runner.process.pid


def postgres_pids(stack: Stack) -> list[int]:
    """The postmaster, then every process it runs (backends, writers)."""
    pid = stack.postgres.pid
    assert pid is not None, "postgres is not running"
    return [pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))]


def kill(pid: int, sig: int = signal.SIGKILL) -> None:
    os.kill(pid, sig)


async def until(check: Callable[[], Awaitable[T | None]], what: str, timeout: float = 120.0) -> T:
    """Ask `check` until it gives something truthy (its errors count as "not yet")."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: object = None
    while True:
        try:
            if found := await check():
                return found
        except (httpx.HTTPError, OSError, AssertionError) as exc:
            last = exc
        assert asyncio.get_running_loop().time() < deadline, f"{what}: not in time ({last!r})"
        await asyncio.sleep(0.25)


async def through(call: Callable[[], Awaitable[T]], what: str, timeout: float = 120.0) -> T:
    """`call()`'s result, asked again while a service is away (answers unavailable)."""

    async def attempt() -> T | None:
        try:
            return await call()
        except DomainError as err:
            assert err.code == "unavailable", err
            return None

    return await until(attempt, what, timeout)


async def restarted(stack: Stack, name: str, old_pid: int, timeout: float = 120.0) -> int:
    """Wait until the supervisor runs `name` again in a new process and that process answers
    (`answering`): a test may talk to it at once, with no retry on a 503. Its pid."""

    async def new_pid() -> int | None:
        runner = stack.runners[name]
        if runner.running and runner.process is not None and runner.process.pid != old_pid:
            return runner.process.pid
        return None

    pid = await until(new_pid, f"{name} restarted", timeout)
    await answering(stack, name, pid, timeout)
    return pid


async def answering(stack: Stack, name: str, pid: int, timeout: float = 120.0) -> None:
    """Wait until the child `name`, running as `pid`, answers for itself: a gateway listens on
    the stack's port; a service has joined its NATS micro service with all its endpoints
    (`$SRV.INFO.<service>`, which every process of it answers, not one of a queue group: so
    it is answered by as many as run, the new one included, each listing every endpoint)."""
    module = stack.runners[name].spec.module
    if module == "gateway":

        async def listens() -> bool:
            try:
                found = psutil.Process(pid).net_connections(kind="tcp")
            except psutil.Error as exc:  # gone (restarted again) or not ours to read
                raise AssertionError(f"{name} ({pid}): {exc!r}") from None
            return any(c.status == psutil.CONN_LISTEN and c.laddr.port == stack.port for c in found)

        await until(listens, f"{name} listening on port {stack.port}", timeout)
        return
    service = module.rsplit(".", 1)[-1]
    nc = await admin_connect(stack.nats_url.split(","), stack.home, max_reconnect_attempts=-1)
    try:

        async def all_answer() -> bool:
            running = [r for r in stack.runners.values() if r.spec.module == module and r.running]
            inbox = nc.new_inbox()
            sub = await nc.subscribe(inbox)
            try:
                await nc.publish(f"$SRV.INFO.{service}", b"", reply=inbox)
                endpoints = []
                while len(endpoints) < len(running):
                    reply = await sub.next_msg(timeout=1.0)  # raises TimeoutError: not yet
                    if not reply.data:  # the server's "no responders": none has joined yet
                        return False
                    endpoints.append(len(json.loads(reply.data).get("endpoints") or []))
            finally:
                await sub.unsubscribe()
            return len(set(endpoints)) == 1 and endpoints[0] > 0

        await until(all_answer, f"{name} ({service}) answering over NATS", timeout)
    finally:
        await nc.close()


async def healthy(api: httpx.AsyncClient, timeout: float = 180.0) -> None:
    """Wait until `GET /health` answers 200: every service answers, nothing is stuck."""

    async def ok() -> bool:
        return (await api.get("/health")).status_code == 200

    await until(ok, "the stack healthy", timeout)


async def get_json(api: httpx.AsyncClient, url: str) -> dict | None:
    """`url`'s JSON when it answers 200, else None (a service that is restarting)."""
    response = await api.get(url)
    return response.json() if response.status_code == 200 else None


async def document_settled(api: httpx.AsyncClient, document_id: str, timeout: float = 240) -> dict:
    """The document once it is ready or rejected, asked again through outages."""

    async def settled() -> dict | None:
        doc = await get_json(api, f"/api/documents/{document_id}")
        return doc if doc and doc["status"] in ("ready", "rejected") else None

    return await until(settled, f"document {document_id} settled", timeout)


def stack_log(stack: Stack) -> str:
    return stack.output.getvalue()  # type: ignore[attr-defined]


def can_mount() -> bool:
    """Whether this process may mount a tmpfs (it runs as root)."""
    return os.geteuid() == 0 and shutil.which("mount") is not None


@contextmanager
def full_disk(folder: Path, size: str = "4m") -> Iterator[Callable[[], None]]:
    """`folder` on a small tmpfs of its own, filled up: a write there fails with ENOSPC.
    Yields `free()`, which gives the space back; the tmpfs is unmounted on exit (what was in
    `folder` before shows again)."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    filler = folder / ".filler"
    try:
        with filler.open("wb", buffering=0) as sink, suppress(OSError):
            while True:
                sink.write(b"\0" * 65536)

        def free() -> None:
            filler.unlink(missing_ok=True)

        yield free
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
