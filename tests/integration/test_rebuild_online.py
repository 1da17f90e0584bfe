"""Rebuilds that keep serving: searches and expert reads answer throughout, nothing old is
announced, a damaged view is repaired by the swap, and no rebuild leaves a consumer or a
subscription behind."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from tests.integration.test_cli import Simtune
from tests.support.api import new_expert, settled, upload
from tests.support.views import snapshot
from tests.support.waiting import until

pytestmark = pytest.mark.integration

LIGHT = "The lamp of the Skerryvore lighthouse was trimmed at dusk by the second keeper."


async def follow(api, response) -> dict:
    assert response.status_code == 202, response.text
    job = response.json()
    while job["state"] == "running":
        await asyncio.sleep(0.05)
        job = (await api.get(response.headers["location"])).json()
    assert job["state"] == "done", job
    return job


async def one_document(api, host, filename: str, content: bytes) -> tuple[str, str, list]:
    """The ids of a new expert and of its one document, settled, and `host`'s views once
    caught up with it."""
    expert = await new_expert(api)
    doc = (await upload(api, expert["id"], (filename, content))).json()
    document_id = doc["documents"][0]["id"]
    await settled(api, document_id)
    await host.wait_caught_up()
    return expert["id"], document_id, await snapshot(host)


async def test_search_and_reads_answer_throughout_a_rebuild(stack, api, nc):
    expert = await new_expert(api)
    accepted = (await upload(api, expert["id"], ("light.txt", (LIGHT + "\n") * 40))).json()
    await settled(api, accepted["documents"][0]["id"])
    for n in range(8):  # more history, so the replay takes a while
        body = f"Note {n} on the fog signal and its compressed air engine.\n" * 20
        doc = (await upload(api, expert["id"], (f"fog{n}.txt", body.encode()))).json()
        await settled(api, doc["documents"][0]["id"])
    heard = []

    async def hear(msg) -> None:
        heard.append(msg.subject)

    sub = await nc.subscribe("projected.>", cb=hear)
    answers: list[tuple[str, int, bool]] = []
    for service in ("knowledge", "expert"):
        started = await api.post(f"/api/admin/projections/{service}/rebuild")
        job = asyncio.create_task(follow(api, started))
        while not job.done():
            hits = await api.get(
                f"/api/experts/{expert['id']}/search", params={"q": "Skerryvore lamp", "k": 3}
            )
            found = hits.status_code == 200 and "Skerryvore" in hits.json()["results"][0]["text"]
            answers.append((service, hits.status_code, found))
            read = await api.get(f"/api/experts/{expert['id']}")
            answers.append((service, read.status_code, read.json().get("id") == expert["id"]))
        finished = await job
        assert finished["projections"][0]["replayed"] > 0
    await sub.unsubscribe()
    during = {service: sum(1 for s, _, _ in answers if s == service) for service in ("knowledge",)}
    assert during["knowledge"] >= 4, "the rebuild was over before anything was asked"
    assert all(status == 200 and ok for _, status, ok in answers), answers
    assert heard == [], f"a rebuild announced old events: {heard[:5]}"


async def test_a_damaged_view_is_repaired_by_the_rebuild(stack, api):
    host = stack.hosts["ingest"]
    expert_id, _, live = await one_document(api, host, "keep.txt", b"Kept through the rebuild.\n")
    async with host.engine.begin() as conn:
        await conn.execute(text("DELETE FROM ingest.documents"))  # someone broke the view
    assert (await api.get(f"/api/experts/{expert_id}/documents")).json() == []
    await follow(api, await api.post("/api/admin/projections/ingest/rebuild"))
    assert await snapshot(host) == live
    async with host.engine.connect() as conn:  # the index is back (built after the replay)
        names = await conn.scalars(
            text("SELECT indexname FROM pg_indexes WHERE schemaname = 'ingest'")
        )
        assert "documents_by_expert" in set(names)
        schemas = await conn.scalars(
            text("SELECT nspname FROM pg_namespace WHERE nspname LIKE '%__rebuild__%'")
        )
        assert list(schemas) == []  # the shadow is gone


async def test_rebuilds_leave_no_consumer_or_subscription_behind(stack, api, nc):
    host = stack.hosts["expert"]
    js = nc.jetstream()

    async def counts():
        consumers = await js.consumers_info("EXPERT")
        return len(host.nc._subs), len(consumers)

    before = await counts()
    for _ in range(3):
        await follow(api, await api.post("/api/admin/projections/expert/rebuild"))
    assert await counts() == before


async def holding(host, table: str, release: asyncio.Event, holds: asyncio.Event) -> None:
    """A reader whose transaction stays open on a live table (a leaked connection) until
    `release` is set; `holds` is set once it has the table."""
    async with host.engine.begin() as conn:
        await conn.execute(text(f"SELECT count(*) FROM {table}"))
        holds.set()
        await release.wait()


async def test_a_second_rebuild_request_follows_the_running_one(stack, api):
    host = stack.hosts["ingest"]
    await one_document(api, host, "twice.txt", b"Rebuilt once, asked for twice.\n")
    # A reader holds the live table, so the first rebuild cannot swap and is surely still
    # running when the second request comes.
    release, holds = asyncio.Event(), asyncio.Event()
    held = asyncio.create_task(holding(host, "ingest.documents", release, holds))
    await asyncio.wait_for(holds.wait(), timeout=30)
    try:
        first = await api.post("/api/admin/projections/ingest/rebuild")
        second = await api.post("/api/admin/projections/ingest/rebuild")
        assert first.status_code == second.status_code == 202
        assert first.json()["state"] == second.json()["state"] == "running"
        assert second.json()["id"] == first.json()["id"]
        assert second.headers["location"] == first.headers["location"]
    finally:
        release.set()
        await held
    await follow(api, first)
    missing = await api.get("/api/admin/projections/knowledge/rebuild/nosuchjob")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


async def test_the_cli_rebuilds_with_progress_and_lists_the_projections(stack):
    simtune = Simtune(stack.url, stack.owner.key)
    result = await simtune("projections", "rebuild", "expert")
    assert result.exit_code == 0, result.stderr
    assert "Rebuilt expert.experts from" in result.stdout
    status = await simtune("projections", "status")
    assert status.exit_code == 0, status.stderr
    for name in ("expert.experts", "ingest.documents", "knowledge.index"):
        assert name in status.stdout
    assert "running" in status.stdout and "EXPERT" in status.stdout
    refused = await simtune("projections", "rebuild", "weather")
    assert refused.exit_code == 1 and "weather" in refused.stderr


async def test_a_reader_holding_the_live_table_delays_the_swap_but_never_hangs_it(
    stack, api, monkeypatch, caplog
):
    from runtime import rebuild

    monkeypatch.setattr(rebuild, "LOCK_WAIT_S", 0.5)
    host = stack.hosts["ingest"]
    _, document_id, live = await one_document(api, host, "held.txt", b"Held by a slow reader.\n")

    release, holds = asyncio.Event(), asyncio.Event()
    held = asyncio.create_task(holding(host, "ingest.documents", release, holds))
    await asyncio.wait_for(holds.wait(), timeout=30)
    started = await api.post("/api/admin/projections/ingest/rebuild")
    job = started.json()
    while job["state"] == "running":
        await asyncio.sleep(0.1)
        job = (await api.get(started.headers["location"])).json()
    release.set()
    await held
    assert job["state"] == "failed", job
    assert "held the live tables" in job["error"] and "try again" in job["error"]
    assert await snapshot(host) == live  # the live view is as it was, and still serves
    assert (await api.get(f"/api/documents/{document_id}")).status_code == 200

    # A reader that lets go while the swap waits: the swap's next try succeeds.
    caplog.clear()
    release, holds = asyncio.Event(), asyncio.Event()
    held = asyncio.create_task(holding(host, "ingest.documents", release, holds))
    await asyncio.wait_for(holds.wait(), timeout=30)
    again = await api.post("/api/admin/projections/ingest/rebuild")
    await until(lambda: "rebuild.swap_waited" in caplog.text, what="the swap to wait once")
    release.set()
    await held
    await follow(api, again)
    assert await snapshot(host) == live
