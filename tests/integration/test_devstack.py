"""The embedded dev stack: NATS, Postgres, the supervisor and its command line."""

from __future__ import annotations

import asyncio
import io
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from runtime.devstack import (
    Child,
    EmbeddedNats,
    EmbeddedPostgres,
    NatsStartError,
    RestartPolicy,
    Stack,
    StackError,
)
from runtime.devstack.util import free_port
from tests.support.servers import (
    admin_connect,
    start_embedded_servers,
    stop_embedded_servers,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CRASHY = "tests.support.crashy_child"
FAST = RestartPolicy(base_delay=0.05, max_delay=0.2, max_crashes=5, window=60.0)


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=300, force_terminal=False), buffer


async def _until(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_nats_jetstream_survives_restart(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats").start()
    try:
        nc = await admin_connect(server.url, tmp_path)
        assert nc.max_payload == 8 * 1024 * 1024
        js = nc.jetstream()
        await js.account_info()
        await js.add_stream(name="DEVSTACK", subjects=["devstack.>"])
        await js.publish("devstack.hello", b"kept")
        await nc.close()
        server.stop()
        assert not server.running
        server.start()
        nc = await admin_connect(server.url, tmp_path)
        info = await nc.jetstream().stream_info("DEVSTACK")
        assert info.state.messages == 1
        await nc.close()
    finally:
        server.stop()
    assert (tmp_path / "nats" / "nats-server.log").read_text().count("Server is ready") == 2


def test_nats_failure_shows_server_log(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = EmbeddedNats(tmp_path / "nats", port=busy.getsockname()[1], start_timeout=5)
        with pytest.raises(NatsStartError, match="address already in use"):
            server.start()
    assert not server.running


def test_nats_refuses_a_store_in_use(tmp_path: Path) -> None:
    with EmbeddedNats(tmp_path / "nats") as first:
        with pytest.raises(NatsStartError, match=f"pid {first.pid}"):
            EmbeddedNats(tmp_path / "nats").start()
        assert first.running


async def test_postgres_vector_and_persistence(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg" / "data").start()
    try:
        engine = create_async_engine(pg.url)
        async with engine.begin() as conn:
            distance = await conn.scalar(text("SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector"))
            assert distance == pytest.approx(1.0)
            await conn.execute(text("CREATE TABLE kept (id int PRIMARY KEY, v vector(3))"))
            await conn.execute(text("INSERT INTO kept VALUES (1, '[1,2,3]')"))
        await engine.dispose()
        pg.stop()
        assert not pg.running
        pg.start()
        conn = await asyncpg.connect(pg.raw_dsn)
        try:
            assert await conn.fetchval("SELECT v::text FROM kept WHERE id = 1") == "[1,2,3]"
            assert await conn.fetchval("SELECT current_database()") == "simtune"
        finally:
            await conn.close()
    finally:
        pg.stop()


async def test_helpers_and_long_paths(tmp_path: Path) -> None:
    deep = tmp_path / ("long-directory-name-" * 6)
    nats_server, pg = start_embedded_servers(deep)
    try:
        assert len(str(pg.data_dir / ".s.PGSQL.5432")) > 107
        assert pg.socket_dir != pg.data_dir  # pgserver moved the socket somewhere shorter
        conn = await asyncpg.connect(pg.raw_dsn)
        assert await conn.fetchval("SELECT extname FROM pg_extension WHERE extname='vector'")
        await conn.close()
        nc = await admin_connect(nats_server.url, deep)
        await nc.close()
    finally:
        stop_embedded_servers(nats_server, pg)


async def test_stack_restarts_with_backoff_then_gives_up(tmp_path: Path) -> None:
    console, out = _console()
    stack = Stack(
        tmp_path / "home",
        port=None,
        children=[Child("crashy", CRASHY, ("crash",)), Child("steady", CRASHY, ("sleep",))],
        policy=FAST,
        console=console,
    )
    task = asyncio.create_task(stack.run(handle_signals=False))
    await asyncio.wait_for(stack.ready.wait(), 30)
    crashy, steady = stack.runners["crashy"], stack.runners["steady"]
    await _until(lambda: crashy.gave_up)
    assert crashy.exit_codes == [1] * 5
    assert crashy.delays == [0.05, 0.1, 0.2, 0.2]
    assert steady.running and not steady.exit_codes
    log = (tmp_path / "home" / "logs" / "crashy.log").read_text()
    assert log.count("boom: exiting with 1") == 5
    assert "restarting in 0.05s" in log and "GIVING UP on crashy" in log
    assert f"nats={stack.nats.url}" in (tmp_path / "home" / "logs" / "steady.log").read_text()
    assert "GIVING UP on crashy" in out.getvalue() and "    steady | crashy_child" in out.getvalue()
    stack.stop()
    assert await asyncio.wait_for(task, 30) == 0
    assert not steady.running and not stack.nats.running and not stack.postgres.running


async def test_stack_waits_for_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    console, out = _console()
    port = free_port()
    stack = Stack(
        tmp_path / "home",
        port=port,
        children=[Child("stubborn", CRASHY, ("stubborn",)), Child("gateway", CRASHY, ("health",))],
        stop_timeout=0.5,
        console=console,
    )
    task = asyncio.create_task(stack.run())
    await asyncio.wait_for(stack.ready.wait(), 30)
    assert f"Simtune is running: http://127.0.0.1:{port} (Ctrl-C to stop)" in out.getvalue()
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, 30) == 0
    assert "stubborn did not stop within 0.5s; killing it" in out.getvalue()
    assert not any(r.running for r in stack.runners.values())


async def test_stack_reports_a_child_that_keeps_crashing(tmp_path: Path) -> None:
    console, _ = _console()
    stack = Stack(
        tmp_path / "home",
        port=free_port(),
        children=[Child("gateway", CRASHY, ("crash",))],
        policy=FAST,
        console=console,
    )
    with pytest.raises(StackError, match=r"gateway \(tests.support.crashy_child\) keeps crashing"):
        await asyncio.wait_for(stack.run(handle_signals=False), 30)
    assert not stack.nats.running and not stack.postgres.running


def _cli(home: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    full_env = {**os.environ, "SIMTUNE_HOME": str(home), **env}
    return subprocess.Popen(
        [sys.executable, "-m", "runtime.devstack", *args],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_up_refuses_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = _cli(tmp_path / "home", "up", SIMTUNE_PORT=str(busy.getsockname()[1]))
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert len(stderr.strip().splitlines()) == 1 and "already in use" in stderr
    assert not (tmp_path / "home" / "nats").exists()


def test_cli_servers_prints_exports(tmp_path: Path) -> None:
    proc = _cli(tmp_path / "home", "servers")
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        exports = dict(shlex.split(line)[1].split("=", 1) for line in lines)
        assert exports["NATS_URL"].startswith("nats://127.0.0.1:")
        assert exports["DATABASE_URL"].startswith("postgresql+asyncpg://postgres@/simtune?host=")
        assert exports["SIMTUNE_HOME"] == str(tmp_path / "home")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
