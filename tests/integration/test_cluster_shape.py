"""`make run-cluster` for real: three clustered NATS servers, two processes of every service
and of the gateway, and a Postgres the stack does not run (its URL in `DATABASE_URL`).

While documents are read and a dataset is built, one NATS node and one process of every
service and of the gateway are SIGKILLed (the trainer's a moment later, the one that trains an
adapter, mid-training): every document ends ready, the run succeeds, each event is on the log
once with no gap, the read models equal their rebuild from the log, and the node catches up
when it is back. A client following the live events through the one port sees every event of
the documents once, though the gateway it was connected to is the one killed: it connects
again with `Last-Event-ID`, as a browser does, and the other gateway resumes the feed. Then one node is held down and a second stopped: the log has no
majority, a write over HTTP is refused with a plain 503 at once, and it is taken again once
the nodes are back.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from pathlib import Path
from types import SimpleNamespace

import httpx
import psutil
import pytest

from runtime import headers as h
from runtime.db import make_engine
from runtime.devstack.cluster import ClusterStack
from runtime.devstack.postgres import EmbeddedPostgres
from runtime.devstack.supervisor import DEFAULT_CHILDREN
from runtime.eventstore import stream_for, subject_for
from tests.support import flows, training
from tests.support.devstack import (
    child_pid,
    document_settled,
    get_json,
    kill,
    restarted,
    running_stack,
    through,
    until,
)
from tests.support.pdfs import make_pdf
from tests.support.servers import admin_connect
from tests.support.sse import sse
from tests.support.tiny_llm import build_tiny_llm
from tests.support.views import differences, snapshot

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SERVICES = tuple(c.name for c in DEFAULT_CHILDREN if c.module.startswith("services."))
INGEST_EVENTS = {"DocumentUploaded": 1, "DocumentParsingStarted": 1, "DocumentChunked": 1}
KNOWLEDGE_EVENTS = {"EmbeddingStarted": 1, "DocumentIndexed": 1}
# Enough reading that the kills land mid-ingest: two replicas of ingest and of knowledge
# read three 12-page documents before the test could kill anything, once.
DOCUMENTS, PAGES = 5, 20
REBUILT = ("ingest", "knowledge", "trainer")  # read models compared with their rebuild
INTERNALS = ("nats", "jetstream", "Traceback", "Errno", "timeout", "raft", "n1", "n2", "n3")


def cluster_stack(database_url: str, model: Path) -> AbstractAsyncContextManager[ClusterStack]:
    """A healthy two-replica `ClusterStack` of every service in a new home, on the Postgres at
    `database_url`, with its owner; stopped and removed on exit."""
    env = {"DATABASE_URL": database_url, "SIMTUNE_BASE_MODEL": str(model)}
    return running_stack(
        "simtune-cluster-shape-", env, health_timeout=400.0, shape=ClusterStack, replicas=2
    )


@asynccontextmanager
async def outside_postgres() -> AsyncIterator[EmbeddedPostgres]:
    """A Postgres that is not the stack's, without pgvector yet (the stack must see to it)."""
    root = Path(tempfile.mkdtemp(prefix="simtune-outside-pg-"))
    postgres = EmbeddedPostgres(root / "data", extensions=())
    await asyncio.to_thread(postgres.start)
    try:
        yield postgres
    finally:
        await asyncio.to_thread(postgres.stop)
        shutil.rmtree(root, ignore_errors=True)


async def log_of(js, stream: str) -> list:
    """Every message of `stream`, in order; asserts the sequence has no gap."""
    state = (await js.stream_info(stream)).state
    if state.last_seq == 0:  # nothing written to it yet
        return []
    assert state.messages == state.last_seq - state.first_seq + 1, (stream, state)
    return [await js.get_msg(stream, seq) for seq in range(state.first_seq, state.last_seq + 1)]


async def rebuilt_equals_live(api: httpx.AsyncClient, engine, context: str) -> None:
    """Rebuild `context`'s read models from the log (as an operator does, over HTTP) and
    compare every row with what the live projection had."""
    host = SimpleNamespace(engine=engine, context=context)
    live = await snapshot(host)
    started = await api.post(f"/api/admin/projections/{context}/rebuild")
    assert started.status_code == 202, started.text

    async def done() -> dict | None:
        job = await get_json(api, started.headers["location"])
        assert job is None or job["state"] != "failed", job
        return job if job and job["state"] == "done" else None

    await until(done, f"the {context} rebuild", timeout=120)
    rebuilt = await snapshot(host)
    assert rebuilt == live, differences(live, rebuilt, context)


class Follower:
    """A client of `GET /api/events?topics=ingest` through the stack's one port, kept open as
    a browser's EventSource keeps it: when the stream breaks (its gateway died) it connects
    again with `Last-Event-ID`, a fifth of a second later (EventSource's retry)."""

    def __init__(self, stack: ClusterStack, headers: dict[str, str]) -> None:
        self.client = httpx.AsyncClient(base_url=stack.base_url, headers=headers, timeout=None)
        self.events: list[dict] = []
        self.connections = 0
        self.last_id: str | None = None
        self.live = asyncio.Event()
        self.task = asyncio.create_task(self.run())

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.client.aclose()

    async def run(self) -> None:
        while True:
            resume = {"Last-Event-ID": self.last_id} if self.last_id else {}
            with suppress(httpx.HTTPError, AssertionError):  # gone: a 503, a cut, the end
                async with sse(self.client, "/api/events?topics=ingest", **resume) as reader:
                    self.connections += 1
                    self.last_id = reader.last_id
                    self.live.set()
                    while True:
                        event = await reader.event(timeout=3600)
                        self.last_id = reader.last_id
                        self.events.append(json.loads(event["data"]))
            await asyncio.sleep(0.2)

    def about(self, doc_id: str) -> Counter:
        return Counter(
            e["type"].split(".")[1] for e in self.events if e["data"].get("document_id") == doc_id
        )


def connection(stack: ClusterStack, headers: dict[str, str]) -> httpx.AsyncClient:
    """A new connection to the stack's one port (either gateway), with a client's 30 s."""
    return httpx.AsyncClient(base_url=stack.base_url, headers=headers, timeout=30.0)


def own_ports(port: int) -> set[int]:
    """This process's local ports of its connections to `port`."""
    return {
        c.laddr.port
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    }


def serving(stack: ClusterStack, client_ports: set[int]) -> str:
    """The gateway replica whose end of the connection is one of `client_ports`."""
    for name in ("gateway-1", "gateway-2"):
        for c in psutil.Process(child_pid(stack, name)).net_connections(kind="tcp"):
            if c.laddr.port == stack.port and c.raddr and c.raddr.port in client_ports:
                return name
    raise AssertionError(f"no gateway holds a connection from {client_ports}")


async def training_process(stack: ClusterStack) -> str | None:
    """The trainer replica that runs a training now (in a child process of its), if any."""
    for name in ("trainer-1", "trainer-2"):
        for child in psutil.Process(child_pid(stack, name)).children():
            with suppress(psutil.Error):  # ended meanwhile
                if "services.trainer.training" in child.cmdline():
                    return name
    return None


@pytest.mark.timeout(900)
async def test_the_cluster_shape_survives_kills_mid_work_and_refuses_writes_without_quorum(
    tmp_path: Path,
) -> None:
    model = asyncio.create_task(asyncio.to_thread(build_tiny_llm, tmp_path / "llm"))
    async with outside_postgres() as postgres, cluster_stack(postgres.url, await model) as stack:
        assert len(stack.runners) == 2 * 10 and "ingest-2" in stack.runners
        assert not stack.postgres.managed and not (stack.home / "pg").exists()
        assert stack.postgres.url == postgres.url
        headers = stack.owner.headers  # type: ignore[attr-defined]
        api = connection(stack, headers)
        nc = await admin_connect(stack.nats_url.split(","), stack.home, max_reconnect_attempts=-1)
        engine = make_engine(postgres.url)
        follower: Follower | None = None
        try:
            js = nc.jetstream()
            for context in ("ingest", "knowledge", "trainer"):
                assert (await js.stream_info(stream_for(context))).config.num_replicas == 3

            # -- read-your-writes through the one port: written through one connection (one
            # gateway), read at once through another (either gateway) ----------------------
            for n in range(4):
                async with (
                    connection(stack, headers) as one,
                    connection(stack, headers) as other,
                ):
                    made = await one.post("/api/experts", json={"name": f"RYW {n}"})
                    assert made.status_code == 201, made.text
                    seen = await other.get(f"/api/experts/{made.json()['id']}")
                    assert seen.status_code == 200 and seen.json()["name"] == f"RYW {n}"

            # -- a client following the live events; its gateway is the one killed below
            before = own_ports(stack.port)
            follower = Follower(stack, headers)
            await asyncio.wait_for(follower.live.wait(), 60)
            doomed = serving(stack, own_ports(stack.port) - before)

            # -- work under way: documents being read, an adapter being trained ------------
            created = await api.post("/api/experts", json={"name": f"C {uuid.uuid4().hex[:6]}"})
            assert created.status_code == 201, created.text
            expert = created.json()["id"]
            dataset = await training.build(nc, expert)  # built while the documents are read
            files = [
                (
                    "file",
                    (
                        f"drill-{n}.pdf",
                        make_pdf(
                            [f"Drill {n}, page {p}. Step {p} is short. " * 30 for p in range(PAGES)]
                        ),
                        "application/pdf",
                    ),
                )
                for n in range(DOCUMENTS)
            ]
            response = await api.post(f"/api/experts/{expert}/documents", files=files)
            assert response.status_code == 202, response.text
            ids = [d["id"] for d in response.json()["documents"]]
            assert len(set(ids)) == DOCUMENTS, ids

            async def mid_ingest() -> bool:
                states = [(await get_json(api, f"/api/documents/{i}") or {}) for i in ids]
                statuses = [s.get("status") for s in states]
                return any(s not in (None, "uploaded") for s in statuses)

            await until(mid_ingest, "an ingest under way")

            # -- SIGKILL mid-ingest: one NATS node, one process of each service but the
            # trainer (killed below, mid-training) and the gateway the follower is on -------
            statuses = [(await get_json(api, f"/api/documents/{i}") or {}) for i in ids]
            assert any(s.get("status") != "ready" for s in statuses), statuses  # still reading
            node = stack.cluster.node("n3")
            node_pid = node.pid
            assert node_pid is not None
            names = [f"{s}-1" for s in SERVICES if s != "trainer"] + [doomed]
            killed = {name: child_pid(stack, name) for name in names}
            kill(node_pid)
            for pid in killed.values():
                kill(pid)

            async def gateway_gone() -> bool:  # its socket closed: dead (a zombie) or reaped
                try:
                    return psutil.Process(killed[doomed]).status() == psutil.STATUS_ZOMBIE
                except psutil.NoSuchProcess:
                    return True

            await until(gateway_gone, f"{doomed} dead")
            # the two gateways share one port: the other one answers, within a client's 30 s
            # (on two cores it shares them with the nine killed processes starting again)
            for _ in range(2):
                async with connection(stack, headers) as fresh:
                    assert (await fresh.get(f"/api/experts/{expert}")).status_code == 200

            # -- the trainer SIGKILLed mid-training (the node and the others still coming back)
            built = await through(flows.build_ended(nc, dataset), "the dataset built")
            assert built.status == "ready", built
            run = await training.start(nc, expert, dataset.id)
            trainer = await until(lambda: training_process(stack), "a training process")
            killed[trainer] = child_pid(stack, trainer)
            kill(killed[trainer])

            # -- the work finishes, each piece once ----------------------------------------
            for doc_id in ids:
                doc = await document_settled(api, doc_id, timeout=300)
                assert doc["status"] == "ready", doc
            ended = await through(lambda: training.finished(nc, run.run_id, 300), "run", 320)
            # the killed trainer's run is taken up by the other (SIMTUNE_TRAIN_RESTARTS=1)
            assert ended.status == "succeeded", ended
            for name, pid in killed.items():
                await restarted(stack, name, pid)

            async def node_back() -> bool:
                return node.running and node.pid != node_pid

            await until(node_back, "the killed NATS node started again")
            assert stack.server_restarts["nats-n3"] == 1

            async def caught_up() -> bool:
                for info in await js.streams_info():
                    cluster = info.cluster
                    peers = {r.name: r for r in cluster.replicas or []}
                    names = {cluster.leader, *peers}
                    if names != {"n1", "n2", "n3"} or not all(r.current for r in peers.values()):
                        return False
                return True

            await until(caught_up, "the restarted node current on every stream", timeout=120)

            kinds: dict[str, Counter] = {}
            for context in SERVICES:
                log = await log_of(js, stream_for(context))
                found = [(m.headers or {}).get(h.EVENT_ID) for m in log]
                doubled = [i for i, n in Counter(found).items() if n > 1]
                assert None not in found and not doubled, (context, doubled)
                for m in log:
                    kinds.setdefault(m.subject, Counter())[
                        m.headers[h.EVENT_TYPE].split(".")[1]
                    ] += 1
            for doc_id in ids:
                assert kinds[subject_for("ingest", "local", "document", doc_id)] == INGEST_EVENTS
                assert kinds[subject_for("knowledge", "local", "document", doc_id)] == (
                    KNOWLEDGE_EVENTS
                )

            # the follower saw each document's events once, across its gateway's death
            async def followed() -> bool:
                return all(follower.about(i)["DocumentChunked"] for i in ids)

            await until(followed, "the documents' events on the live feed", timeout=60)
            await follower.close()
            assert follower.connections >= 2, "the follower's gateway was killed: it reconnected"
            for doc_id in ids:
                assert follower.about(doc_id) == INGEST_EVENTS, doc_id
            seqs = [e["seq"] for e in follower.events]
            assert seqs == sorted(set(seqs)), "an event twice or out of order on the live feed"
            trained = kinds[subject_for("trainer", "local", "run", run.run_id)]
            assert trained["AdapterTrained"] == 1 and trained["RunFailed"] == 0, trained
            for context in REBUILT:
                await rebuilt_equals_live(api, engine, context)

            # -- no majority: one node held down (the supervisor leaves it), a second stopped
            stack.held.update({"nats-n1", "nats-n2"})
            await asyncio.to_thread(stack.cluster.node("n1").stop)
            await asyncio.to_thread(stack.cluster.node("n2").stop)
            began = time.monotonic()
            refused = await api.post("/api/experts", json={"name": "Without a quorum"})
            took = time.monotonic() - began
            assert refused.status_code == 503, refused.text
            body = refused.json()
            assert body["error"] == "unavailable" and "try again" in body["detail"], body
            assert not any(word.lower() in body["detail"].lower() for word in INTERNALS), body
            assert took < 15, took  # within seconds (0.1 s quiet), well inside a client's 30 s
            assert "not taking writes" in body["detail"], body

            stack.held.clear()  # the supervisor starts both again

            async def written() -> bool:
                again = await api.post("/api/experts", json={"name": f"Q {uuid.uuid4().hex[:6]}"})
                assert again.status_code in (201, 503), again.text
                return again.status_code == 201

            await until(written, "a write taken again with the nodes back", timeout=120)
            assert stack.server_restarts["nats-n1"] == stack.server_restarts["nats-n2"] == 1
            assert stack.server_restarts["postgres"] == 0  # not ours: never restarted
            assert not any(r.gave_up for r in stack.runners.values())
        finally:
            if follower is not None:
                await follower.close()
            await engine.dispose()
            await nc.close()
            await api.aclose()
