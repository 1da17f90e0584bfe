"""Crashes on the real stack: `make run`'s supervisor with NATS, Postgres, every service and
the gateway as processes; one of them is SIGKILLed (or held down) by its pid, mid-work.

The stack must come back by itself (the supervisor restarts what died, the others
reconnect), and the work in flight must finish exactly once: each document `ready` with one
of each ingest and knowledge event and one chunk per position, each run ended once.
"""

from __future__ import annotations

import collections
import re
import uuid

import httpx
import pytest
from sqlalchemy import text

from contracts import benchmark as bench_contracts
from contracts import dataset as dataset_contracts
from contracts import registry as registry_contracts
from contracts import trainer as trainer_contracts
from contracts.base import Accepted
from contracts.dataset import DatasetView
from runtime.db import make_engine
from tests.support import benchmarks as bench
from tests.support import flows, training
from tests.support.devstack import (
    child_pid,
    document_settled,
    get_json,
    healthy,
    kill,
    restarted,
    running_stack,
    stack_log,
    through,
    until,
)
from tests.support.log import install_store
from tests.support.pdfs import make_pdf
from tests.support.servers import admin_connect
from tests.support.tiny_llm import build_tiny_llm

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INGEST_EVENTS = {"DocumentUploaded": 1, "DocumentParsingStarted": 1, "DocumentChunked": 1}
# A failed reaction is tried again after 0.5 s, doubling (2 s in use): its retries end within
# 0.5 + 1 + 2 + 4 = 7.5 s of the first failure (30 s in use), and so do a view's five tries of
# an event (0.5 s doubling, as in use) before it is parked as stuck. A database outage longer
# than that would decide work as failed and park every view that meets it (a parked view
# tries again only every 30 s, SIMTUNE_STUCK_RETRY_S), were an outage counted as a try.
MAX_DELIVERIES = 5
RETRY_BACKOFF_S = 0.5
RETRIES_END_S = sum(RETRY_BACKOFF_S * 2**n for n in range(MAX_DELIVERIES - 1))
OUTAGE_S = RETRIES_END_S + 2.5
FAULTS_ENV = {
    "SIMTUNE_MAX_DELIVERIES": str(MAX_DELIVERIES),
    "SIMTUNE_RETRY_BACKOFF_S": str(RETRY_BACKOFF_S),
    "SIMTUNE_OUTAGE_RETRY_S": "1",  # after an outage, work goes on within a second (5 s in use)
}
SHOWN_AFTER_OUTAGE_S = 15  # a view goes on within seconds, well before a parked one's 30 s
KNOWLEDGE_EVENTS = {"EmbeddingStarted": 1, "DocumentIndexed": 1}


class Faults:
    def __init__(self, stack, api: httpx.AsyncClient, nc) -> None:
        self.stack, self.api, self.nc = stack, api, nc
        self.store = install_store(
            nc, stack.home, stack.postgres.url, stack.child_env().get("SIMTUNE_SECRET_KEY")
        )

    async def expert(self) -> str:
        body = {"name": f"Faults {uuid.uuid4().hex[:8]}"}
        response = await self.api.post("/api/experts", json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def upload(self, expert_id: str, count: int, pages: int = 12) -> list[str]:
        """`count` PDFs of `pages` pages each, accepted; their document ids."""
        files = [
            (
                "file",
                (
                    f"manual-{n}.pdf",
                    make_pdf(
                        [
                            f"Manual {n}, page {p}. " + f"Step {p} of procedure {n} is short. " * 30
                            for p in range(1, pages + 1)
                        ]
                    ),
                    "application/pdf",
                ),
            )
            for n in range(count)
        ]
        response = await self.api.post(f"/api/experts/{expert_id}/documents", files=files)
        assert response.status_code == 202, response.text
        return [d["id"] for d in response.json()["documents"]]

    async def some_started(self, ids: list[str]) -> None:
        """Wait until the ingest of at least one of `ids` is under way and not all are done."""

        async def started() -> bool:
            states = [(await get_json(self.api, f"/api/documents/{i}") or {}) for i in ids]
            statuses = [s.get("status") for s in states]
            return any(s not in (None, "uploaded") for s in statuses)

        await until(started, "an ingest under way")

    async def events(
        self, context: str, aggregate_id: str, aggregate: str = "document"
    ) -> collections.Counter:
        events, _ = await self.store.load(context, "local", aggregate, aggregate_id)
        return collections.Counter(rec.type.split(".")[1] for rec in events)

    async def kill_child(self, name: str) -> None:
        """SIGKILL the service `name`; return once the supervisor runs a new one and the
        stack answers healthy again."""
        old = child_pid(self.stack, name)
        kill(old)
        await restarted(self.stack, name, old)
        await healthy(self.api)

    async def build_dataset(self, expert_id: str) -> Accepted:
        return await training.build(self.nc, expert_id)

    async def dataset_built(self, accepted: Accepted) -> DatasetView:
        return await through(flows.build_ended(self.nc, accepted), "the dataset built")

    async def all_ready_once(self, ids: list[str]) -> None:
        """Every document ends ready, with each of its events once and no chunk twice."""
        for doc_id in ids:
            doc = await document_settled(self.api, doc_id)
            assert doc["status"] == "ready", doc
            assert await self.events("ingest", doc_id) == INGEST_EVENTS
            assert await self.events("knowledge", doc_id) == KNOWLEDGE_EVENTS
        engine = make_engine(self.stack.postgres.url)
        try:
            async with engine.connect() as conn:
                rows = (
                    await conn.execute(
                        text(
                            "SELECT document_id, count(*), count(DISTINCT ord)"
                            " FROM knowledge.chunks WHERE document_id = ANY(:ids)"
                            " GROUP BY document_id"
                        ),
                        {"ids": ids},
                    )
                ).all()
        finally:
            await engine.dispose()
        assert len(rows) == len(ids)
        for doc_id, count, distinct in rows:
            assert count == distinct > 0, doc_id


@pytest.fixture(scope="module")
async def faults(tmp_path_factory):
    model = build_tiny_llm(tmp_path_factory.mktemp("faults-llm"))
    async with (
        running_stack("simtune-faults-", {**FAULTS_ENV, "SIMTUNE_BASE_MODEL": str(model)}) as stack,
        httpx.AsyncClient(
            base_url=stack.base_url, timeout=30.0, headers=stack.owner.headers
        ) as api,
    ):
        nc = await admin_connect(stack.nats.url, stack.home, max_reconnect_attempts=-1)
        try:
            yield Faults(stack, api, nc)
        finally:
            await nc.close()


async def server_killed_mid_ingest(faults: Faults, name: str) -> None:
    """SIGKILL the server `name` ("nats" or "postgres") while documents are being read: the
    supervisor starts it again, once, and every document is ready exactly once."""
    stack = faults.stack
    expert = await faults.expert()
    ids = await faults.upload(expert, 3)
    await faults.some_started(ids)
    restarts, old = stack.server_restarts[name], getattr(stack, name).pid
    assert old is not None
    kill(old)

    def back() -> bool:
        server = getattr(stack, name)  # looked up afresh, as the supervisor sees it
        return server.running and server.pid != old

    await until(lambda: _true(back()), f"{name} restarted")
    await faults.all_ready_once(ids)
    await healthy(faults.api)
    assert stack.server_restarts[name] == restarts + 1
    assert not any(r.gave_up for r in stack.runners.values())


async def test_nats_killed_mid_ingest_comes_back_and_finishes_once(faults: Faults) -> None:
    await server_killed_mid_ingest(faults, "nats")
    assert "nats stopped unexpectedly; starting it again" in stack_log(faults.stack)


async def _true(value: bool) -> bool:
    return value


async def test_nats_killed_mid_training_comes_back_and_the_run_ends_once(faults: Faults) -> None:
    stack, nc = faults.stack, faults.nc
    expert = await faults.expert()
    accepted = await faults.build_dataset(expert)
    assert (await faults.dataset_built(accepted)).status == "ready"
    run = await training.start(nc, expert, accepted.id)
    await through(
        lambda: training.reached(nc, run.run_id, lambda v: v.status == "running"), "running"
    )
    old = stack.nats.pid
    assert old is not None
    kill(old)

    await until(lambda: _true(stack.nats.running and stack.nats.pid != old), "nats restarted")
    ended = await through(lambda: training.finished(nc, run.run_id), "run ended", 300)
    assert ended.status == "succeeded", ended
    events = await faults.events(trainer_contracts.CONTEXT, run.run_id, trainer_contracts.RUN)
    assert events["AdapterTrained"] == 1 and events["RunFailed"] == 0, events
    await healthy(faults.api)
    assert not any(r.gave_up for r in stack.runners.values())


async def test_postgres_killed_mid_ingest_comes_back_and_finishes_once(faults: Faults) -> None:
    await server_killed_mid_ingest(faults, "postgres")


async def test_postgres_down_past_every_retry_answers_503_then_resumes(faults: Faults) -> None:
    """Postgres held down for longer than a failed reaction's retries take (`OUTAGE_S`): requests
    answer 503 meanwhile, no work is decided as failed, no service process crashes, no view
    is parked as stuck (what was written meanwhile shows within seconds of the database's
    return), and the work in flight finishes once."""
    stack, api = faults.stack, faults.api
    expert = await faults.expert()
    ids = await faults.upload(expert, 2, pages=2)
    crashes = {name: len(runner.exit_codes) for name, runner in stack.runners.items()}
    logged = len(stack_log(stack))
    stack.server_restart_delay = OUTAGE_S
    try:
        old = stack.postgres.pid
        assert old is not None
        kill(old)
        await until(lambda: _true(not stack.postgres.running), "postgres down")
        seen = {}
        # an expert is on the log once created: the 503 says so and names it, so nobody
        # sends it again and makes a second one
        created = await api.post("/api/experts", json={"name": "During the outage"})
        for what, call in {
            "query": lambda: api.get(f"/api/experts/{expert}"),
            "list": lambda: api.get("/api/experts"),
            "upload": lambda: api.post(
                f"/api/experts/{expert}/documents",
                files=[("file", ("outage.txt", b"Written while the database was down.\n" * 40))],
            ),
        }.items():
            response = await call()
            seen[what] = (response.status_code, response.json())
        assert stack.postgres.running is False  # all of it was asked while it was down
    finally:
        stack.server_restart_delay = 0.0
    assert created.status_code == 503, created.text
    said = re.search(r"the expert was created \(id (\w+)\)", created.json()["detail"])
    assert said and "do not create it again" in created.json()["detail"], created.text
    for what, (status, body) in seen.items():
        assert status == 503, (what, body)
        assert body["error"] == "unavailable", (what, body)
        assert "cannot reach its database right now; try again" in body["detail"], (what, body)
        for internal in ("asyncpg", "sqlalchemy", "Errno", "socket", "Traceback", "SELECT"):
            assert internal not in body["detail"], (what, body)
    await until(lambda: _true(stack.postgres.running), "postgres restarted", timeout=90)

    async def shown() -> bool:  # the expert created during the outage, in the list
        listed = await api.get("/api/experts")
        return listed.status_code == 200 and any(e["id"] == said.group(1) for e in listed.json())

    await until(shown, "the expert made during the outage shown", timeout=SHOWN_AFTER_OUTAGE_S)
    await faults.all_ready_once(ids)
    await healthy(api)
    assert not any(r.gave_up for r in stack.runners.values())
    assert {name: len(r.exit_codes) for name, r in stack.runners.items()} == crashes
    # the views met the outage, waited it out, and parked nothing
    since = stack_log(stack)[logged:]
    assert "projection.outage" in since and "projection.stuck" not in since
    # the refused upload was not registered after all, and what came before is all there
    documents = (await api.get(f"/api/experts/{expert}/documents")).json()
    assert sorted(d["id"] for d in documents) == sorted(ids)
    experts = (await api.get("/api/experts")).json()
    assert [e["id"] for e in experts if e["name"] == "During the outage"] == [said.group(1)]


async def test_each_service_killed_under_load_restarts_and_finishes_its_work_once(
    faults: Faults,
) -> None:
    stack, nc = faults.stack, faults.nc
    expert = await faults.expert()

    # gateway and expert: killed with documents in flight
    ids = await faults.upload(expert, 2)
    await faults.some_started(ids)
    await faults.kill_child("gateway")
    await faults.kill_child("expert")
    await faults.all_ready_once(ids)

    # dataset: killed while it builds
    accepted = await faults.build_dataset(expert)
    await faults.kill_child("dataset")
    built = await faults.dataset_built(accepted)
    assert built.status == "ready", built
    builds = await faults.events(
        dataset_contracts.CONTEXT, accepted.id, dataset_contracts.AGGREGATE
    )
    assert builds["DatasetBuilt"] == 1, builds

    # trainer: killed while it trains
    run = await training.start(nc, expert, accepted.id)
    await through(
        lambda: training.reached(nc, run.run_id, lambda v: v.status == "running"), "running"
    )
    await faults.kill_child("trainer")
    ended = await through(lambda: training.finished(nc, run.run_id), "run ended", 300)
    assert ended.status == "succeeded", ended
    events = await faults.events(trainer_contracts.CONTEXT, run.run_id, trainer_contracts.RUN)
    assert events["AdapterTrained"] == 1 and events["RunFailed"] == 0, events

    # registry: killed as the trained adapter reaches it
    await faults.kill_child("registry")

    async def registered() -> collections.Counter | None:
        versions = await faults.events(
            registry_contracts.CONTEXT, expert, registry_contracts.VERSIONS
        )
        return versions if versions["AdapterRegistered"] else None

    versions = await until(registered, "the adapter registered")
    assert versions["AdapterRegistered"] == 1, versions

    # benchmark: killed mid-run
    bench_id = await through(
        lambda: bench.start(nc, expert, suite="builtin", size="quick", adapter_id="base"),
        "benchmark started",
    )
    await through(
        lambda: bench.reached(nc, bench_id, lambda v: v.status != "queued"), "benchmark running"
    )
    await faults.kill_child("benchmark")
    finished = await through(lambda: bench.finished(nc, bench_id, 240), "benchmark", 300)
    assert finished.status == "succeeded", finished
    events, _ = await faults.store.load(
        bench_contracts.CONTEXT, "local", bench_contracts.RUN, bench_id
    )
    kinds = collections.Counter(rec.type.split(".")[1] for rec in events)
    assert kinds["BenchmarkCompleted"] == 1 and kinds["BenchmarkFailed"] == 0, kinds
    scored = [rec.event.index for rec in events if rec.type.endswith("QuestionScored")]
    assert scored and len(scored) == len(set(scored)), scored
    assert not any(r.gave_up for r in stack.runners.values())
