"""A reactor under faults, on the real embedded NATS.

A poison event costs that event and never the queue; work that never finishes is given up
too; an event this build cannot read is held (never acked, never given up) until a build
that knows it runs; a loop that dies says so (`on_fatal`, health "failed") instead of going
quiet, and by default ends its process with status 70 so the supervisor restarts it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import uuid
from collections import Counter
from pathlib import Path

import msgspec
import pytest

from contracts.base import Event
from contracts.expert import ExpertCreated, Profile
from runtime.codec import register_events
from runtime.eventstore import EventStore
from runtime.headers import EVENT_TYPE as H_EVENT_TYPE
from runtime.headers import TENANT as H_TENANT
from runtime.holds import Holds
from runtime.reactor import EXIT_FATAL, AttemptsExhausted, Reactor
from tests.support.servers import admin_connect

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


class Summarized(Event, frozen=True, tag="test.DocumentSummarized"):
    """An event type from a "newer release": this build learns it only in the upgrade."""

    document_id: str
    summary: str


class Stream:
    def __init__(self, nc, context: str) -> None:
        self.js, self.context, self.name = nc.jetstream(), context, context.upper()
        self.store = EventStore(self.js)

    async def append(self, key: str) -> int:
        event = ExpertCreated(expert_id=key, profile=Profile(name=key))
        return await self.store.append(self.context, "local", "item", key, event, expected_seq=None)

    async def publish_raw(self, key: str, data: bytes, event_type: str) -> int:
        headers = {"Nats-Msg-Id": str(uuid.uuid4()), H_EVENT_TYPE: event_type, H_TENANT: "local"}
        subject = f"evt.{self.context}.local.item.{key}"
        return (await self.js.publish(subject, data, headers=headers)).seq

    def reactor(self, conn, handler, **options) -> Reactor:
        """A reactor of this stream (the durable `test.<context>`) over `conn`, one worker
        process's connection; `options` as `Reactor` takes them."""
        return Reactor(conn, f"test.{self.context}", self.name, handler, **options)

    async def left_on_queue(self, reactor: Reactor) -> tuple[int, int]:
        """(not yet delivered, delivered but not acked) of the reactor's consumer."""
        info = await self.js.consumer_info(self.name, reactor.durable)
        return info.num_pending, info.num_ack_pending


@pytest.fixture
async def stream(nc):
    context = "rt" + uuid.uuid4().hex[:12]
    await nc.jetstream().add_stream(name=context.upper(), subjects=[f"evt.{context}.>"])
    yield Stream(nc, context)
    await nc.jetstream().delete_stream(context.upper())


async def until(condition, timeout: float = 30.0, what: str = "the condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"{what} did not happen in time"
        await asyncio.sleep(0.05)


async def test_a_failing_event_costs_only_itself(nc, stream):
    loop = asyncio.get_running_loop()
    handled: dict[str, float] = {}
    attempts: Counter[str] = Counter()
    given_up: list[tuple[str, str, float]] = []

    async def handler(rec, progress) -> None:
        attempts[rec.aggregate_id] += 1
        if rec.aggregate_id.startswith("bad"):
            raise RuntimeError(f"{rec.aggregate_id} always fails")
        handled[rec.aggregate_id] = loop.time()

    async def give_up(rec, error) -> None:
        given_up.append((rec.aggregate_id, str(error), loop.time()))

    reactor = stream.reactor(nc, handler, max_deliver=3, give_up=give_up)
    await reactor.start()
    try:
        bad = [f"bad{i}" for i in range(6)]  # more than the 4 that used to halt the queue
        good = [f"good{i}" for i in range(6)]
        for key in bad + good:
            await stream.append(key)
        await until(lambda: len(given_up) == len(bad), what="giving up on the bad events")

        assert set(handled) == set(good)
        assert max(handled.values()) < min(at for _, _, at in given_up)  # nobody waited
        assert sorted((key, why) for key, why, _ in given_up) == [
            (key, f"{key} always fails") for key in bad
        ]
        assert all(attempts[key] == 3 for key in bad) and all(attempts[k] == 1 for k in good)
        assert reactor.health() == {
            "name": reactor.name,
            "kind": "reactor",
            "state": "running",
            "detail": None,
            "parked": len(bad),
        }
        assert await stream.left_on_queue(reactor) == (0, 0)
        # Nothing comes back: an event appended after them all is handled, and still no bad
        # one was tried again.
        await stream.append("later")
        await until(lambda: "later" in handled, what="the later event to be handled")
        assert all(attempts[key] == 3 for key in bad) and attempts["later"] == 1
        assert await stream.left_on_queue(reactor) == (0, 0)
    finally:
        await reactor.stop()
    assert reactor.health()["state"] == "stopped"


async def test_work_whose_worker_dies_every_time_is_given_up_without_running_it_again(
    servers, stream
):
    entered, given_up = [], []

    async def handler(rec, progress) -> None:
        entered.append(rec.seq)
        await asyncio.Event().wait()  # never finishes: its process is killed mid-work

    async def give_up(rec, error) -> None:
        given_up.append(error)

    await stream.append("endless")
    for life in (1, 2, 3):
        # one worker process's connection
        conn = await admin_connect(servers.nats_url, servers.home)
        reactor = stream.reactor(
            conn,
            handler,
            ack_wait_s=1,
            max_deliver=2,
            give_up=give_up,
            on_fatal=lambda name, error: None,
        )
        await reactor.start()
        if life <= 2:
            await until(lambda n=life: len(entered) == n, what=f"attempt {life}")
            await conn.close()  # the process dies: no goodbye, the ack wait runs out
            await reactor.stop()
        else:
            await until(lambda: given_up, what="giving up")
            assert reactor.health()["parked"] == 1
            assert await stream.left_on_queue(reactor) == (0, 0)
            await reactor.stop()
            await conn.close()
    assert len(entered) == 2
    assert isinstance(given_up[0], AttemptsExhausted)


async def test_a_slow_handler_that_never_says_so_keeps_its_work(nc, stream):
    """A live worker silent for three ack waits (a busy machine, a NATS node failing over)
    is not taken over by the other replica: the reactor heartbeats for it, so the work runs
    once and no attempt is spent."""
    entered, done, given_up = [], [], []

    async def handler(rec, progress) -> None:
        entered.append(rec.seq)
        await asyncio.sleep(3.0)  # the work itself: three ack waits, no progress() call
        done.append(rec.seq)

    async def give_up(rec, error) -> None:
        given_up.append(error)

    await stream.append("slow")
    replicas = [
        stream.reactor(nc, handler, ack_wait_s=1, max_deliver=2, give_up=give_up) for _ in range(2)
    ]
    for reactor in replicas:
        await reactor.start()
    try:
        await until(lambda: done, what="the slow work finished")
        assert len(entered) == 1 and given_up == [], (entered, given_up)
        assert await stream.left_on_queue(replicas[0]) == (0, 0)
    finally:
        for reactor in replicas:
            await reactor.stop()


async def test_stopping_hands_work_back_without_using_up_its_attempts(nc, stream):
    entered, done, given_up = [], [], []

    async def handler(rec, progress) -> None:
        entered.append(rec.seq)
        if len(entered) <= 3:
            await asyncio.Event().wait()  # still working when the service stops
        done.append(rec.seq)

    async def give_up(rec, error) -> None:
        given_up.append(error)

    await stream.append("long")
    for restart in (1, 2, 3, 4):
        reactor = stream.reactor(nc, handler, max_deliver=2, give_up=give_up)
        await reactor.start()
        await until(lambda n=restart: len(entered) == n, what=f"delivery {restart}")
        if restart <= 3:
            await reactor.stop()  # a deploy: the work goes back to the queue at once
    await until(lambda: done, what="finishing after three restarts")
    assert given_up == [] and reactor.health()["parked"] == 0
    assert await stream.left_on_queue(reactor) == (0, 0)
    await reactor.stop()


async def test_an_unknown_event_is_held_until_a_build_that_knows_it_runs(nc, stream):
    name = f"test.{stream.context}"
    seen, given_up = [], []

    async def old_handler(rec, progress) -> None:
        seen.append(("old", rec.type))

    async def give_up(rec, error) -> None:
        given_up.append(rec)

    event = Summarized(document_id="d1", summary="A short summary.")
    seq = await stream.publish_raw("d1", msgspec.json.encode(event), "test.DocumentSummarized")
    await stream.append("known")

    old = Reactor(nc, name, stream.name, old_handler, max_deliver=2, give_up=give_up, hold_s=0.2)
    await old.start()
    holds = Holds(stream.js, old.durable)
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while await holds.spent(seq) < 6:  # held on 6 deliveries, 3 times max_deliver
            assert asyncio.get_running_loop().time() < deadline, "the event was not redelivered"
            await asyncio.sleep(0.1)
        assert seen == [("old", "expert.ExpertCreated")] and given_up == []
        assert old.health()["state"] == "running" and old.health()["parked"] == 0
        assert "holding 1 event" in old.health()["detail"]
        assert (await stream.left_on_queue(old))[1] == 1  # delivered, never acked
    finally:
        await old.stop()

    register_events(Summarized)  # the upgrade: this build knows the type now
    failures = []

    async def new_handler(rec, progress) -> None:
        if not failures:  # fails once: the held deliveries must not count as attempts
            failures.append(rec.seq)
            raise RuntimeError("a passing failure")
        seen.append(("new", rec.event))

    new = Reactor(nc, name, stream.name, new_handler, max_deliver=2, give_up=give_up)
    await new.start()
    try:
        await until(lambda: len(seen) == 2, what="handling after the upgrade")
        assert seen[1] == ("new", event) and failures == [seq] and given_up == []
        assert await stream.left_on_queue(new) == (0, 0)
        assert await holds.spent(seq) == 0  # forgotten once done
    finally:
        await new.stop()


async def test_an_event_this_build_cannot_decode_is_held_not_fatal(nc, stream):
    fatal, seen = [], []

    async def handler(rec, progress) -> None:
        seen.append(rec.aggregate_id)

    broken = b'{"type": "expert.ExpertCreated", "expert_id": "a.b", "profile": {"name": ""}}'
    seq = await stream.publish_raw("broken", broken, "expert.ExpertCreated")
    await stream.append("fine")
    reactor = stream.reactor(
        nc, handler, hold_s=0.2, on_fatal=lambda name, error: fatal.append(error)
    )
    await reactor.start()
    try:
        await until(lambda: seen == ["fine"], what="the readable event")
        holds = Holds(stream.js, reactor.durable)
        deadline = asyncio.get_running_loop().time() + 30
        while await holds.spent(seq) < 2:  # delivered again, and held again
            assert asyncio.get_running_loop().time() < deadline, "the event was not redelivered"
            await asyncio.sleep(0.1)
        assert fatal == [] and reactor.health()["state"] == "running"
        assert "holding 1 event" in reactor.health()["detail"]
        assert (await stream.left_on_queue(reactor))[1] == 1
    finally:
        await reactor.stop()


async def test_a_loop_whose_connection_closes_is_fatal_and_says_so(servers, stream):
    conn = await admin_connect(servers.nats_url, servers.home)
    fatal = []
    reactor = stream.reactor(
        conn,
        lambda rec, progress: asyncio.sleep(0),
        on_fatal=lambda name, error: fatal.append((name, error)),
    )
    await reactor.start()
    assert reactor.health()["state"] == "running"
    await conn.close()
    await until(lambda: fatal, what="on_fatal")
    assert fatal[0][0] == reactor.name
    health = reactor.health()
    assert health["state"] == "failed" and "Closed" in health["detail"]
    await reactor.stop()
    assert reactor.health()["state"] == "failed"


async def test_an_ack_on_a_closed_connection_is_fatal(servers, stream):
    conn = await admin_connect(servers.nats_url, servers.home)
    fatal, handled = [], []

    async def handler(rec, progress) -> None:
        handled.append(rec.aggregate_id)
        await conn.close()  # the work is done, the ack cannot be sent

    reactor = stream.reactor(conn, handler, on_fatal=lambda name, error: fatal.append(error))
    await reactor.start()
    await stream.append("one")
    await until(lambda: fatal, what="on_fatal")
    assert handled == ["one"] and reactor.health()["state"] == "failed"
    await reactor.stop()


async def test_by_default_a_dead_loop_ends_the_process_for_the_supervisor(servers, stream):
    script = textwrap.dedent(
        f"""
        import asyncio
        from runtime.reactor import Reactor
        from tests.support.servers import admin_connect

        async def main():
            conn = await admin_connect({servers.nats_url!r}, {str(servers.home)!r})
            reactor = Reactor(conn, "test.exit", {stream.name!r}, lambda r, p: asyncio.sleep(0))
            await reactor.start()
            await conn.close()
            await asyncio.sleep(30)

        asyncio.run(main())
        """
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == EXIT_FATAL, done.stderr.decode()[-2000:]
    assert b"reactor.fatal" in done.stdout + done.stderr
