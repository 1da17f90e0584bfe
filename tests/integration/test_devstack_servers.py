"""The supervisor keeps NATS and Postgres up: one that dies (SIGKILL, no goodbye) is started
again at the same address with the same data, after `server_restart_delay`."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import time
from pathlib import Path

import asyncpg
import pytest
from rich.console import Console

from runtime.devstack import Child, Stack
from tests.support.servers import admin_connect

pytestmark = pytest.mark.integration

STEADY = Child("steady", "tests.support.crashy_child", ("sleep",))


async def _until(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not in time"
        await asyncio.sleep(0.05)


async def test_nats_and_postgres_killed_are_started_again_with_their_data(tmp_path: Path) -> None:
    out = io.StringIO()
    stack = Stack(
        tmp_path / "home",
        port=None,
        children=[STEADY],
        console=Console(file=out, width=300),
        server_restart_delay=1.0,
    )
    task = asyncio.create_task(stack.run(handle_signals=False))
    try:
        await asyncio.wait_for(stack.ready.wait(), 60)
        nats_url, pg_dsn = stack.nats.url, stack.postgres.raw_dsn
        nc = await admin_connect(nats_url, stack.home)
        await nc.jetstream().add_stream(name="KEPT", subjects=["kept.>"])
        await nc.jetstream().publish("kept.one", b"1")
        await nc.close()
        conn = await asyncpg.connect(pg_dsn)
        await conn.execute("CREATE TABLE kept (id int); INSERT INTO kept VALUES (1)")
        await conn.close()

        old_nats, old_pg = stack.nats.pid, stack.postgres.pid
        assert old_nats and old_pg
        os.kill(old_nats, signal.SIGKILL)
        os.kill(old_pg, signal.SIGKILL)
        await _until(lambda: not stack.nats.running and not stack.postgres.running, "both down")
        await _until(
            lambda: stack.server_restarts == {"nats": 1, "postgres": 1}, "both started again"
        )
        assert stack.nats.pid != old_nats and stack.postgres.pid != old_pg
        assert (stack.nats.url, stack.postgres.raw_dsn) == (nats_url, pg_dsn)

        nc = await admin_connect(nats_url, stack.home)
        assert (await nc.jetstream().stream_info("KEPT")).state.messages == 1
        await nc.close()
        conn = await asyncpg.connect(pg_dsn)
        assert await conn.fetchval("SELECT count(*) FROM kept") == 1
        await conn.close()
        assert stack.runners["steady"].running and not stack.runners["steady"].exit_codes
        log = out.getvalue()
        assert "nats stopped unexpectedly; starting it again" in log
        assert "postgres stopped unexpectedly; starting it again" in log
    finally:
        stack.stop()
        assert await asyncio.wait_for(task, 60) == 0
    assert not stack.nats.running and not stack.postgres.running
