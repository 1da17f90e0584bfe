"""Event store: append throughput and projection replay rate, each beside raw nats-py.

Append: 5,000 expert events (ExpertCreated, then ExpertUpdated, round-robin over 500
aggregates) through `EventStore.append` (expected last-subject sequence, Nats-Msg-Id, the
Simtune headers), awaited one by one, beside `js.publish` of the same payload bytes to a
plain stream on the same server, also one by one. Both run on the embedded server as
shipped (`sync_interval: always`: every ack after an fsync); the same appends also go to a
second server with NATS's default (sync every two minutes), which is what durability costs.
Done in two halves in alternating order, so drift on a noisy machine hits all alike.

Replay: `Projector.rebuild()` of the experts projection (replay the whole EXPERT stream
into a shadow schema in set-based batches, build its indexes, swap it in) beside a raw
pull-consume of the same stream with nats-py (fetch 256 at a time, ack each), without
Postgres.
"""

from __future__ import annotations

import random
import uuid

import nats
from nats.js import api
from sqlalchemy import text

from benchmarks import corpus
from benchmarks.common import Timer, begin, embedded_stack, print_table, record
from contracts.expert import ExpertCreated, ExpertUpdated, Profile, ProfilePatch
from runtime.codec import encode
from runtime.db import make_engine
from runtime.devstack.nats_server import EmbeddedNats
from runtime.eventstore import EventStore
from runtime.projector import Projector
from services.expert.projections import ExpertsProjection
from tests.support.servers import admin_connect

AGGREGATES, EVENTS, WARMUP, BATCH = 500, 5_000, 100, 256


def expert_events(aggregates: int, events: int, seed: int) -> list[tuple[str, object]]:
    """(aggregate id, event): each aggregate's ExpertCreated first, then ExpertUpdated."""
    rng = random.Random(seed)
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(aggregates)]
    out: list[tuple[str, object]] = []
    for n in range(events):
        agg = ids[n % aggregates]
        topic = corpus.TOPICS[n % len(corpus.TOPICS)]
        if n < aggregates:
            profile = Profile(
                name=f"Expert on {topic.name} {n}",
                description=corpus.paragraph(topic, rng)[:400],
                domain=topic.name,
                goals=[corpus.question(topic, rng)],
            )
            out.append((agg, ExpertCreated(expert_id=agg, profile=profile)))
        else:
            patch = ProfilePatch(description=corpus.sentence(topic, rng))
            out.append((agg, ExpertUpdated(expert_id=agg, changes=patch)))
    return out


async def append_all(store: EventStore, events) -> float:
    last: dict[str, int] = {}
    with Timer() as t:
        for agg, event in events:
            last[agg] = await store.append(
                "expert", "local", "expert", agg, event, expected_seq=last.get(agg, 0)
            )
    return t.s


async def publish_all(js, events) -> float:
    payloads = [(f"raw.{agg}", encode(event)) for agg, event in events]
    with Timer() as t:
        for subject, payload in payloads:
            await js.publish(subject, payload)
    return t.s


async def raw_consume(js, stream: str, count: int) -> float:
    sub = await js.pull_subscribe(
        "evt.expert.>",
        durable="bench-raw",
        stream=stream,
        config=api.ConsumerConfig(ack_policy=api.AckPolicy.EXPLICIT),
    )
    seen = 0
    with Timer() as t:
        while seen < count:
            for msg in await sub.fetch(BATCH, timeout=5):
                await msg.ack()
                seen += 1
    await sub.unsubscribe()
    return t.s


async def run() -> dict:
    begin()
    async with embedded_stack() as stack:
        lax = EmbeddedNats(stack.home / "nats-default-sync", sync_always=False).start()
        nc = await admin_connect(stack.nats_url, stack.home)
        lax_nc = await nats.connect(lax.url, **lax.credentials())
        js = nc.jetstream()
        store, lax_store = EventStore(js), EventStore(lax_nc.jetstream())
        stream = await store.ensure_stream("expert")
        await lax_store.ensure_stream("expert")
        await js.add_stream(name="RAW", subjects=["raw.>"], storage=api.StorageType.FILE)
        warm = expert_events(WARMUP, WARMUP, seed=1)
        await append_all(store, warm)
        await append_all(lax_store, warm)
        await publish_all(js, warm)
        half = EVENTS // 2
        first = expert_events(AGGREGATES // 2, half, seed=2)
        second = expert_events(AGGREGATES // 2, EVENTS - half, seed=3)
        append_s = await append_all(store, first)
        lax_s = await append_all(lax_store, first)
        publish_s = await publish_all(js, first)
        publish_s += await publish_all(js, second)
        lax_s += await append_all(lax_store, second)
        append_s += await append_all(store, second)
        await lax_nc.close()
        lax.stop()

        total = (await js.stream_info(stream)).state.messages
        engine = make_engine(stack.database_url)
        projector = Projector(nc, engine, "expert", ExpertsProjection())
        try:
            consume_s = await raw_consume(js, stream, total)
            await projector.start()  # a live projector catches up first (warm-up)
            await projector.wait_caught_up()
            with Timer() as rebuild:
                replayed = await projector.rebuild()
            async with engine.connect() as conn:
                rows = (await conn.execute(text("SELECT count(*) FROM expert.experts"))).scalar()
        finally:
            await projector.stop()
            await engine.dispose()
            await nc.close()
    if replayed != total or rows != AGGREGATES + WARMUP:
        raise RuntimeError(f"replayed {replayed} of {total} events into {rows} rows")
    return report(append_s, lax_s, publish_s, consume_s, rebuild.s, total)


def report(
    append_s: float,
    lax_s: float,
    publish_s: float,
    consume_s: float,
    rebuild_s: float,
    total: int,
) -> dict:
    figures = {
        "append_events": EVENTS,
        "aggregates": AGGREGATES,
        "append_per_s": EVENTS / append_s,
        "append_default_sync_per_s": EVENTS / lax_s,
        "sync_always_cost_ratio": lax_s / append_s,
        "raw_publish_per_s": EVENTS / publish_s,
        "append_ratio": publish_s / append_s,
        "replay_events": total,
        "rebuild_per_s": total / rebuild_s,
        "raw_consume_per_s": total / consume_s,
        "replay_ratio": consume_s / rebuild_s,
    }
    print_table(
        f"event store: {EVENTS:,} appends over {AGGREGATES} aggregates; replay of {total:,} events",
        ("run", "seconds", "events/s"),
        [
            (
                "EventStore.append (expected seq, msg id, headers), sync always",
                append_s,
                figures["append_per_s"],
            ),
            (
                "  the same on NATS's default sync (every 2 min)",
                lax_s,
                figures["append_default_sync_per_s"],
            ),
            ("ratio sync always/default", "", figures["sync_always_cost_ratio"]),
            (
                "raw: js.publish, same payloads, plain stream",
                publish_s,
                figures["raw_publish_per_s"],
            ),
            ("ratio append/raw", "", figures["append_ratio"]),
            (
                "Projector.rebuild() of expert.experts (shadow, swap)",
                rebuild_s,
                figures["rebuild_per_s"],
            ),
            ("raw: pull-consume 256 at a time, ack each", consume_s, figures["raw_consume_per_s"]),
            ("ratio rebuild/raw", "", figures["replay_ratio"]),
        ],
    )
    record("eventstore", figures)
    return figures
