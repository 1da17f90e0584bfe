"""Each process answers for itself: `/livez` and `/readyz` on SIMTUNE_PROBE_PORT of a real
service process, and the gateway's own, while Postgres and NATS go away and come back.

A lost database or NATS makes the process unready (named in the answer) but not dead: a
kubelet takes it out of rotation instead of restarting it, and puts it back once it is ready.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from runtime.devstack.util import free_port
from runtime.settings import load_settings
from tests.support.processes import ROOT, Processes
from tests.support.servers import (
    TEST_ENV,
    serve_gateway,
    start_embedded_servers,
    stop_embedded_servers,
)
from tests.support.waiting import until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def servers():
    home = Path(tempfile.mkdtemp(prefix="simtune-probes-"))  # Postgres's user reads it
    nats, postgres = start_embedded_servers(home)
    env = {
        **os.environ,
        **TEST_ENV,
        "NATS_URL": nats.url,
        "DATABASE_URL": postgres.url,
        "SIMTUNE_HOME": str(home),
        "SIMTUNE_LOG_FORMAT": "json",
        "HF_HUB_OFFLINE": "1",
    }
    try:
        yield nats, postgres, env
    finally:
        stop_embedded_servers(nats, postgres)
        shutil.rmtree(home, ignore_errors=True)


async def answer(client: httpx.AsyncClient, path: str) -> tuple[int, dict]:
    try:
        response = await client.get(path)
    except httpx.TransportError:
        return 0, {}
    return response.status_code, response.json()


async def answers(client: httpx.AsyncClient, path: str, status: int) -> dict:
    """`path`'s body once it answers `status` (polled)."""
    found = await until(
        lambda: _when(client, path, status), timeout=30, what=f"{path} answering {status}"
    )
    return found


async def _when(client: httpx.AsyncClient, path: str, status: int) -> dict | None:
    got, body = await answer(client, path)
    return body if got == status else None


async def compose_check(port: int) -> tuple[int, str]:
    """What compose's health check (`python deploy/probe.py ready`) exits with and says."""
    check = await asyncio.create_subprocess_exec(
        sys.executable,
        "deploy/probe.py",
        "ready",
        cwd=ROOT,
        env={**os.environ, "SIMTUNE_PROBE_PORT": str(port)},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(check.communicate(), 30)
    return check.returncode, out.decode().strip()


async def test_a_service_process_is_unready_but_alive_while_a_server_is_away(servers):
    nats, postgres, env = servers
    port = free_port()
    procs = Processes({**env, "SIMTUNE_PROBE_PORT": str(port)}, Path(env["SIMTUNE_HOME"]))
    procs.start("community")
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            live = await answers(client, "/livez", 200)
            assert live["status"] == "ok" and live["checks"]["endpoints"] == "running"
            ready = await answers(client, "/readyz", 200)
            assert ready["checks"]["nats"] == "connected"
            assert ready["checks"]["database"] == "reachable"
            projections = [k for k in ready["checks"] if k.startswith("projection ")]
            assert projections and all(ready["checks"][k] == "caught up" for k in projections)
            status, said = await compose_check(port)
            assert status == 0 and said.startswith("ready: ok: nats: connected"), said

            postgres.stop()
            unready = await answers(client, "/readyz", 503)
            assert unready["failing"] == ["database"], unready
            assert (await answer(client, "/livez"))[0] == 200
            status, said = await compose_check(port)
            assert status == 1 and "database: unreachable" in said
            postgres.start()
            await answers(client, "/readyz", 200)

            nats.stop()
            unready = await answers(client, "/readyz", 503)
            assert "nats" in unready["failing"] and unready["checks"]["nats"] == "disconnected"
            assert (await answer(client, "/livez"))[0] == 200
            nats.start()
            await answers(client, "/readyz", 200)

            status, body = await answer(client, "/health")
            assert status == 404 and "only /livez and /readyz" in body["detail"]
    finally:
        procs.stop_all()


async def test_the_gateway_answers_for_itself_without_sign_in(servers):
    nats, _, env = servers
    url, server, task = await serve_gateway(load_settings(env))
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as anonymous:
            live = await answers(anonymous, "/livez", 200)
            assert live == {"status": "ok", "checks": {"http": "serving"}}
            ready = await answers(anonymous, "/readyz", 200)
            assert ready["checks"] == {"nats": "connected", "hub": "running"}
            schema = (await anonymous.get("/schema/openapi.json")).json()
            assert "/health" in schema["paths"] and "/readyz" not in schema["paths"]

            nats.stop()
            try:
                unready = await answers(anonymous, "/readyz", 503)
                assert unready["checks"]["nats"] == "disconnected"
                assert (await answer(anonymous, "/livez"))[0] == 200
            finally:
                nats.start()
            await answers(anonymous, "/readyz", 200)
    finally:
        server.should_exit = True
        await task
