"""`make run-cluster` for real: three clustered NATS servers, two processes of every service
and of the gateway, Postgres by its URL. One NATS node and one replica each of ingest and
knowledge are SIGKILLed while documents are being read: the documents end ready, each event
on the log once, the node catches up when it is back, and the one gateway port keeps
answering when one of the two gateways is killed.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from rich.console import Console

from runtime.devstack.cluster import ClusterStack
from runtime.devstack.util import free_port
from tests.support.devstack import (
    QUICK,
    STACK_ENV,
    child_pid,
    document_settled,
    get_json,
    kill,
    owner_of,
    restarted,
    until,
)
from tests.support.pdfs import make_pdf
from tests.support.servers import admin_connect

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@asynccontextmanager
async def cluster_stack(replicas: int = 2) -> AsyncIterator[ClusterStack]:
    """A healthy `ClusterStack` of every service in a new home, with its owner; stopped and
    removed on exit."""
    home = Path(tempfile.mkdtemp(prefix="simtune-cluster-shape-"))
    (home / "tmp").mkdir()
    out = io.StringIO()
    stack = ClusterStack(
        home,
        replicas=replicas,
        port=free_port(),
        env={**STACK_ENV, "TMPDIR": str(home / "tmp")},
        policy=QUICK,
        health_timeout=400.0,
        console=Console(file=out, width=300, force_terminal=False),
    )
    stack.output = out  # type: ignore[attr-defined]
    run = asyncio.create_task(stack.run(handle_signals=False))
    ready = asyncio.create_task(stack.ready.wait())
    await asyncio.wait({run, ready}, return_when=asyncio.FIRST_COMPLETED)
    try:
        if run.done():
            run.result()
            raise AssertionError("the cluster ended before it was ready")
        stack.owner = await owner_of(stack)  # type: ignore[attr-defined]
        yield stack
    finally:
        ready.cancel()
        stack.stop()
        await asyncio.wait_for(run, 180)
        shutil.rmtree(home, ignore_errors=True)


async def event_ids(js, stream: str) -> list[str]:
    """Every event id (`Nats-Msg-Id`) on `stream`, one per message, in order."""
    info = await js.stream_info(stream)
    ids = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(stream, seq)
        ids.append((msg.headers or {}).get("Nats-Msg-Id"))
    return ids


@pytest.mark.timeout(900)
async def test_the_cluster_shape_survives_a_node_and_replicas_killed_mid_ingest() -> None:
    async with cluster_stack() as stack:
        assert len(stack.runners) == 2 * 10 and "ingest-2" in stack.runners
        headers = stack.owner.headers  # type: ignore[attr-defined]
        api = httpx.AsyncClient(base_url=stack.base_url, timeout=30.0, headers=headers)
        nc = await admin_connect(stack.nats_url.split(","), stack.home, max_reconnect_attempts=-1)
        try:
            js = nc.jetstream()
            for stream in ("INGEST", "KNOWLEDGE"):
                assert (await js.stream_info(stream)).config.num_replicas == 3

            created = await api.post("/api/experts", json={"name": f"C {uuid.uuid4().hex[:6]}"})
            assert created.status_code == 201, created.text
            pages = [f"Page {p}. Step {p} of the cluster drill is short. " * 30 for p in range(8)]
            files = [
                ("file", (f"drill-{n}.pdf", make_pdf(pages), "application/pdf")) for n in range(3)
            ]
            response = await api.post(f"/api/experts/{created.json()['id']}/documents", files=files)
            assert response.status_code == 202, response.text
            ids = [d["id"] for d in response.json()["documents"]]

            async def started() -> bool:
                states = [(await get_json(api, f"/api/documents/{i}") or {}) for i in ids]
                return any(s.get("status") not in (None, "uploaded") for s in states)

            await until(started, "an ingest under way")
            node = stack.cluster.node("n3")
            node_pid = node.pid
            assert node_pid is not None
            killed = {name: child_pid(stack, name) for name in ("ingest-1", "knowledge-1")}
            kill(node_pid)
            for pid in killed.values():
                kill(pid)

            for doc_id in ids:
                doc = await document_settled(api, doc_id, timeout=300)
                assert doc["status"] == "ready", doc
            for name, pid in killed.items():
                await restarted(stack, name, pid)

            async def node_back() -> bool:
                return node.running and node.pid != node_pid

            await until(node_back, "the killed NATS node started again")
            assert stack.server_restarts["nats-n3"] == 1

            async def caught_up() -> bool:
                for stream in ("INGEST", "KNOWLEDGE"):
                    cluster = (await js.stream_info(stream)).cluster
                    peers = {r.name: r for r in cluster.replicas or []}
                    names = {cluster.leader, *peers}
                    if names != {"n1", "n2", "n3"} or not all(r.current for r in peers.values()):
                        return False
                return True

            await until(caught_up, "the restarted node current on every stream", timeout=120)

            for stream in ("INGEST", "KNOWLEDGE"):
                found = await event_ids(js, stream)
                doubled = [i for i, n in Counter(found).items() if n > 1]
                assert None not in found and not doubled, (stream, doubled)

            # the two gateways share one port: with one of them killed, the other answers
            gateway_pid = child_pid(stack, "gateway-1")
            assert child_pid(stack, "gateway-2") != gateway_pid
            kill(gateway_pid)

            async def gone() -> bool:  # its socket closed: dead (a zombie) or reaped
                try:
                    return psutil.Process(gateway_pid).status() == psutil.STATUS_ZOMBIE
                except psutil.NoSuchProcess:
                    return True

            await until(gone, "gateway-1 dead")
            for _ in range(2):
                async with httpx.AsyncClient(base_url=stack.base_url, headers=headers) as fresh:
                    answer = await fresh.get(f"/api/documents/{ids[0]}")
                    assert answer.status_code == 200 and answer.json()["status"] == "ready"
            await restarted(stack, "gateway-1", gateway_pid)
            assert not any(r.gave_up for r in stack.runners.values())
        finally:
            await nc.close()
            await api.aclose()
