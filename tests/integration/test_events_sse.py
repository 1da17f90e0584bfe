"""Server-Sent Events: domain events after commit, ids, Last-Event-ID resume, live tables."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import asynccontextmanager

import pytest

from contracts.base import DomainError
from contracts.expert import ExpertCreated, Profile
from gateway.sse.cursor import Cursor, parse_event_id, parse_topics
from gateway.sse.events import quiet_fill
from gateway.sse.hub import Announcement, EventHub
from gateway.sse.replay import missed
from runtime.eventstore import EventStore
from tests.support.sse import sse

pytestmark = pytest.mark.integration

TEXT = b"Notes about the tides of the northern bay and the moon that pulls them.\n" * 20


async def new_expert(api) -> str:
    response = await api.post("/api/experts", json={"name": f"SSE {uuid.uuid4().hex[:8]}"})
    return response.json()["id"]


async def upload(api, expert_id: str, name: str, data: bytes = TEXT) -> str:
    files = [("file", (name, data, "text/plain"))]
    response = await api.post(f"/api/experts/{expert_id}/documents", files=files)
    assert response.status_code == 202, response.text
    return response.json()["documents"][0]["id"]


def about(doc_id: str, event_type: str):
    return lambda e: e["type"] == event_type and e["data"].get("document_id") == doc_id


def all_of(doc_ids: set[str], event_type: str):
    """True at the event that completes `event_type` for every one of `doc_ids`."""
    left = set(doc_ids)

    def done(e) -> bool:
        if e["type"] == event_type:
            left.discard(e["data"].get("document_id"))
        return not left

    return done


# ---- pure: topics, ids, cursor -------------------------------------------------------------


def test_topics_are_checked_and_deduplicated():
    assert parse_topics("ingest, knowledge,ingest") == ["ingest", "knowledge"]
    assert parse_topics(None) == [
        "expert",
        "ingest",
        "knowledge",
        "dataset",
        "trainer",
        "registry",
        "benchmark",
        "community",
    ]
    with pytest.raises(DomainError, match="unknown topic"):
        parse_topics("ingest,weather")


def test_event_ids_round_trip():
    cursor = Cursor(["ingest", "knowledge"])
    cursor.begin("knowledge", 17)
    assert cursor.accept("ingest", 42) and not cursor.accept("ingest", 42)
    assert cursor.event_id() == "ingest:42,knowledge:17"
    assert parse_event_id(cursor.event_id(), ["ingest", "knowledge"]) == {
        "ingest": 42,
        "knowledge": 17,
    }
    assert parse_event_id("42", ["ingest"]) == {"ingest": 42}
    assert parse_event_id("ingest:3,knowledge:4", ["knowledge"]) == {"knowledge": 4}
    for bad, topics in [("42", ["ingest", "knowledge"]), ("ingest=3", ["ingest"])]:
        with pytest.raises(DomainError):
            parse_event_id(bad, topics)


def test_an_event_committed_late_is_still_delivered_once():
    cursor = Cursor(["ingest"])
    cursor.begin("ingest", 10)  # the stream ended at 10 when the client connected
    assert cursor.event_id() == "10"
    assert cursor.accept("ingest", 9)  # appended before, projected after: still news
    # Its id is its own sequence, not the floor: a client that drops now and resumes from
    # this id must still get event 10 (also appended before it connected, not yet sent).
    assert cursor.event_id() == "9"
    assert parse_event_id(cursor.event_id(), ["ingest"]) == {"ingest": 9}
    assert cursor.accept("ingest", 10) and cursor.event_id() == "10"
    assert cursor.accept("ingest", 11) and not cursor.accept("ingest", 11)
    assert cursor.event_id() == "11"


# ---- /api/events ---------------------------------------------------------------------------


async def test_status_changes_arrive_after_they_are_committed(api):
    expert_id = await new_expert(api)
    async with sse(api, "/api/events?topics=ingest,knowledge") as events:
        assert events.last_id and events.last_id.startswith("ingest:")
        doc_id = await upload(api, expert_id, "tides.txt")
        seen = await events.until(about(doc_id, "knowledge.DocumentIndexed"), timeout=90)
        # What the event says is already visible: its projection committed before it was sent.
        doc = (await api.get(f"/api/documents/{doc_id}")).json()
        assert doc["status"] == "ready"
    mine = [e for e in seen if e["json"]["data"].get("document_id") == doc_id]
    types = [e["json"]["type"] for e in mine]
    assert types[0] == "ingest.DocumentUploaded"
    assert types.index("ingest.DocumentChunked") < types.index("knowledge.DocumentIndexed")
    for event in seen:
        body = event["json"]
        assert {"stream", "seq", "type", "tenant", "aggregate_id", "occurred_at", "data"} <= set(
            body
        )
        topic = body["stream"].lower()
        positions = parse_event_id(event["id"], ["ingest", "knowledge"])
        assert positions[topic] == body["seq"]  # id = the stream sequence
    keys = [(e["json"]["stream"], e["json"]["seq"]) for e in seen]
    assert len(keys) == len(set(keys)), "no event is sent twice"


async def test_single_topic_ids_are_plain_sequences(api):
    expert_id = await new_expert(api)
    async with sse(api, "/api/events?topics=expert") as events:
        response = await api.patch(f"/api/experts/{expert_id}", json={"domain": "Tides"})
        assert response.status_code == 200
        (event,) = (await events.until(lambda e: e["aggregate_id"] == expert_id))[-1:]
        assert event["id"] == str(event["json"]["seq"])
        assert event["json"]["type"] == "expert.ExpertUpdated"


async def test_reconnect_with_last_event_id_replays_then_goes_on_live(api):
    expert_id = await new_expert(api)
    async with sse(api, "/api/events?topics=ingest") as events:
        first = await upload(api, expert_id, "first.txt", TEXT + b"one")
        await events.until(about(first, "ingest.DocumentUploaded"))
        resume_from = events.last_id
    # Disconnected: these happen while nobody listens.
    missed = await upload(api, expert_id, "missed.txt", TEXT + b"two")
    async with asyncio.timeout(90):
        while (await api.get(f"/api/documents/{missed}")).json()["status"] != "ready":
            await asyncio.sleep(0.2)

    async with sse(api, "/api/events?topics=ingest", **{"Last-Event-ID": resume_from}) as events:
        # Both documents were chunked while nobody listened, in either order: files are
        # parsed in parallel (SIMTUNE_PARSE_WORKERS), so read until both were seen.
        replayed = await events.until(all_of({first, missed}, "ingest.DocumentChunked"))
        seqs = [e["json"]["seq"] for e in replayed]
        assert seqs == list(range(int(resume_from) + 1, int(resume_from) + 1 + len(seqs)))
        assert any(about(first, "ingest.DocumentChunked")(e["json"]) for e in replayed)
        assert replayed[0]["json"]["projection"] == "replay"
        live = await upload(api, expert_id, "live.txt", TEXT + b"three")
        after = await events.until(about(live, "ingest.DocumentUploaded"))
        more = [e["json"]["seq"] for e in after]
        assert min(more) > max(seqs) and len(more) == len(set(more))


async def test_resume_works_with_a_query_parameter_too(api):
    expert_id = await new_expert(api)
    async with sse(api, "/api/events?topics=ingest") as events:
        start = int(events.last_id)
    doc_id = await upload(api, expert_id, "param.txt", TEXT + b"param")
    async with sse(api, f"/api/events?topics=ingest&last_event_id={start}") as events:
        seen = await events.until(about(doc_id, "ingest.DocumentUploaded"))
        assert seen[0]["json"]["seq"] == start + 1


@pytest.mark.parametrize(
    ("query", "headers"),
    [("topics=weather", {}), ("topics=ingest,knowledge", {"Last-Event-ID": "12"})],
)
async def test_bad_subscriptions_are_400(api, query, headers):
    response = await api.get(f"/api/events?{query}", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"


# ---- the live documents table of the page --------------------------------------------------


async def test_documents_table_updates_live(api):
    expert_id = await new_expert(api)
    async with sse(api, f"/ui/experts/{expert_id}/documents/stream") as table:
        assert table.first["event"] == "documents"
        assert "No documents yet" in table.first["data"]
        await upload(api, expert_id, "live-table.txt")
        statuses = []
        async with asyncio.timeout(90):
            while 'data-status="ready"' not in (html := (await table.event())["data"]):
                assert "live-table.txt" in html
                statuses.append(html.split('data-status="')[1].split('"')[0])
        assert "live-table.txt" in html and "Ready" in html
    assert all(s in ("uploaded", "parsing", "embedding") for s in statuses)


async def test_documents_table_of_an_unknown_expert_is_404(api):
    response = await api.get("/ui/experts/nobody/documents/stream")
    assert response.status_code == 404


async def test_a_sealed_key_never_leaves_on_the_live_feed_or_the_replay(api, stack):
    from contracts.answers import BackendConfigured
    from contracts.expert import AGGREGATE, CONTEXT, STREAM

    expert_id = await new_expert(api)

    def configured(e: dict) -> bool:
        return e["type"] == "expert.BackendConfigured" and e["aggregate_id"] == expert_id

    body = {
        "kind": "openai",
        "base_url": "http://127.0.0.1:9/v1",
        "model": "m",
        "api_key": "sk-feed-1",
    }
    async with sse(api, "/api/events?topics=expert") as live:
        assert (await api.put(f"/api/experts/{expert_id}/backend", json=body)).status_code == 200
        (announced,) = (await live.until(configured))[-1:]
    async with sse(api, "/api/events?topics=expert&last_event_id=0") as again:
        (replayed,) = (await again.until(configured))[-1:]

    store = stack.hosts[CONTEXT].store  # the expert's profile on the log is sealed
    events, _ = await store.load(CONTEXT, "local", AGGREGATE, expert_id)
    (on_log,) = [r.event for r in events if isinstance(r.event, BackendConfigured)]
    assert on_log.api_key_sealed  # the log keeps the sealed key, for the expert service alone
    for event in (announced, replayed):
        assert event["json"]["stream"] == STREAM and event["json"]["data"]["kind"] == "openai"
        assert "api_key_sealed" not in event["json"]["data"]
        assert on_log.api_key_sealed not in event["data"] and "sk-feed-1" not in event["data"]


@asynccontextmanager
async def scratch_log(nc, *written: tuple[str, str]):
    """A stream of its own, holding an `ExpertCreated` for each (key, tenant) in order:
    (its context, stream, JetStream, {key: sequence}); deleted afterwards."""
    context = "sse" + uuid.uuid4().hex[:10]
    stream, js = context.upper(), nc.jetstream()
    await js.add_stream(name=stream, subjects=[f"evt.{context}.>"])
    store = EventStore(js)
    try:
        seqs = {}
        for key, tenant in written:
            event = ExpertCreated(expert_id=key, profile=Profile(name=key))
            seqs[key] = await store.append(context, tenant, "item", key, event, expected_seq=None)
        yield context, stream, js, seqs
    finally:
        await js.delete_stream(stream)


async def test_the_live_feed_reads_from_the_log_what_no_announcement_brought(nc):
    """Before a live announcement, the events of the person in between come from the log
    (one announced by a replica killed after its commit never arrives; one can be overtaken
    by another replica's): theirs only, in order, none of another person's."""
    written = (("a", "t1"), ("b", "t2"), ("c", "t1"), ("d", "t1"))
    async with scratch_log(nc, *written) as (context, stream, js, seqs):
        between = [
            (seq, json.loads(said))
            async for seq, said in missed(js, context, stream, "t1", seqs["a"] - 1, seqs["d"])
        ]
        assert [seq for seq, _ in between] == [seqs["a"], seqs["c"]]
        assert [e["data"]["expert_id"] for _, e in between] == ["a", "c"]
        assert {e["tenant"] for _, e in between} == {"t1"}
        nothing = [s async for s, _ in missed(js, context, stream, "t1", seqs["c"], seqs["d"])]
        assert nothing == []  # the usual case: the announced event is the next one


async def test_a_quiet_feed_brings_the_persons_last_event_once_a_later_one_shows_it_projected(nc):
    """The person's last event lost its announcement and nothing of theirs follows: in the
    next quiet spell it is read from the log, as soon as anyone's later announcement shows
    the stream projected past it; never before (it may not be in the views yet), never
    twice."""
    async with scratch_log(nc, ("a", "t1"), ("b", "t2")) as (context, stream, js, seqs):
        cursor, checked = Cursor([context]), {}
        cursor.begin(context, seqs["a"] - 1)  # connected just before the person's event
        hub = EventHub(nc)

        async def fill() -> list[dict]:
            messages = quiet_fill(js, "t1", cursor, hub.projected, checked, {context: stream})
            return [json.loads(m.data) async for m in messages]

        assert await fill() == []  # nothing announced: the event may not be projected yet
        hub.dispatch(Announcement(stream=stream, seq=seqs["b"], type="ExpertCreated", tenant="t2"))
        hub.dispatch(Announcement(stream=stream, seq=seqs["a"] - 1, type="x", tenant="t3"))
        assert hub.projected[stream] == seqs["b"]  # the highest, whoever's

        filled = await fill()
        assert [(e["seq"], e["tenant"], e["data"]["expert_id"]) for e in filled] == [
            (seqs["a"], "t1", "a")
        ]
        assert cursor.event_id() == str(seqs["a"]) and checked[context] == seqs["b"]
        assert await fill() == []  # sent once; the quiet feed reads nothing again
