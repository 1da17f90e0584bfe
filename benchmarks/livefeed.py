"""The live feed: what a person's browser waits for an event beyond the announcement itself.

A real gateway served by uvicorn and the expert service in-process (`product_api`), on the
embedded stack. EVENTS experts are made one after the other through `POST /api/experts`;
each makes one `ExpertCreated`, which the expert projection announces on core NATS once its
read model shows it.

Baseline: a raw core-NATS subscriber of the announcements (`projected.EXPERT.<tenant>`) in
the benchmark's process: the time from the POST to the announcement. Beside it, the same
time to the event on `GET /api/events?topics=expert`, read by 1 and then by CLIENTS
followers at once: the gateway's fan-out, its check that nothing was missed before each event
(`gateway.sse.replay.missed`) and SSE framing. Here one person makes every event, so the
check reads nothing: it reads the log only where the stream holds other events between the
last one sent and this one (another person's). That read is timed alone: one read from the
stream's leader, which finds the announced event itself.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from benchmarks.common import begin, embedded_stack, percentiles, print_table, product_api, record
from contracts.expert import ExpertCreated, Profile
from gateway.sse.replay import missed
from runtime.eventstore import EventStore
from tests.support.servers import admin_connect
from tests.support.sse import sse

EVENTS, WARMUP, CLIENTS, READS = 200, 20, 8, 500
TENANT = "local"


async def follow(api, arrived: dict[str, float], ready: asyncio.Event) -> None:
    """One follower of the live feed: the arrival time of each expert's event."""
    async with sse(api, "/api/events?topics=expert") as reader:
        ready.set()
        while True:
            event = json.loads((await reader.event(timeout=60))["data"])
            arrived.setdefault(event["data"]["expert_id"], time.perf_counter())


async def timed_feed(api, nc, followers: int) -> tuple[list[float], list[float]]:
    """Make EVENTS experts with `followers` clients on the feed; the seconds from each POST to
    its announcement (raw) and to its event on each follower's feed."""
    announced: dict[str, float] = {}

    async def heard(msg) -> None:
        announced.setdefault(json.loads(msg.data)["data"]["expert_id"], time.perf_counter())

    sub = await nc.subscribe(f"projected.EXPERT.{TENANT}", cb=heard)
    feeds = [{} for _ in range(followers)]
    readies = [asyncio.Event() for _ in range(followers)]
    tasks = [asyncio.create_task(follow(api, f, r)) for f, r in zip(feeds, readies, strict=True)]
    try:
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
        posted: dict[str, float] = {}
        for n in range(WARMUP + EVENTS):
            began = time.perf_counter()
            made = await api.post("/api/experts", json={"name": f"Feed {followers}.{n}"})
            made.raise_for_status()
            if n >= WARMUP:
                posted[made.json()["id"]] = began
        deadline = time.monotonic() + 60
        while not all(set(posted) <= set(f) for f in [announced, *feeds]):
            if time.monotonic() > deadline:
                raise RuntimeError("an event never reached a follower of the live feed")
            await asyncio.sleep(0.05)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await sub.unsubscribe()
    raw = [announced[i] - t for i, t in posted.items()]
    fed = [f[i] - t for f in feeds for i, t in posted.items()]
    return raw, fed


async def timed_fill(nc) -> list[float]:
    """READS of the feed's check before a live event when another person's event lies between
    the one it sent last and this one: one read, which finds this one (nothing missed)."""
    js = nc.jetstream()
    store = EventStore(js)
    seqs = []
    for tenant in (TENANT, "someone-else", TENANT):
        expert_id = uuid.uuid4().hex
        event = ExpertCreated(expert_id=expert_id, profile=Profile(name="Between"))
        seqs.append(
            await store.append("expert", tenant, "expert", expert_id, event, expected_seq=None)
        )
    times = []
    for _ in range(READS):
        began = time.perf_counter()
        filled = [s async for s, _ in missed(js, "expert", "EXPERT", TENANT, seqs[0], seqs[2])]
        times.append(time.perf_counter() - began)
        if filled:
            raise RuntimeError(f"the check found events of the person's between two: {filled}")
    return times


async def run() -> dict:
    begin()
    async with (
        embedded_stack() as stack,
        product_api(stack.settings(), ["expert"], timeout=30) as (_, api),
    ):
        nc = await admin_connect(stack.nats_url, stack.home)
        try:
            raw_1, fed_1 = await timed_feed(api, nc, 1)
            raw_n, fed_n = await timed_feed(api, nc, CLIENTS)
            fill = await timed_fill(nc)
        finally:
            await nc.close()
    (r1_50, r1_95), (f1_50, f1_95), (rn_50, rn_95), (fn_50, fn_95), (fill_50, fill_95) = (
        percentiles(values) for values in (raw_1, fed_1, raw_n, fed_n, fill)
    )
    figures = {
        "raw_1_p50_ms": r1_50,
        "raw_1_p95_ms": r1_95,
        "feed_1_p50_ms": f1_50,
        "feed_1_p95_ms": f1_95,
        "raw_n_p50_ms": rn_50,
        "raw_n_p95_ms": rn_95,
        "feed_n_p50_ms": fn_50,
        "feed_n_p95_ms": fn_95,
        "clients": CLIENTS,
        "fill_read_p50_ms": fill_50,
        "fill_read_p95_ms": fill_95,
    }
    figures["ratio_1_p50"] = f1_50 / r1_50
    figures["ratio_n_p50"] = fn_50 / rn_50
    print_table(
        f"POST /api/experts to its event ({EVENTS} events, one at a time)",
        ("followers", "raw announcement p50/p95 ms", "live feed p50/p95 ms", "ratio p50"),
        [
            (1, f"{r1_50:.2f} / {r1_95:.2f}", f"{f1_50:.2f} / {f1_95:.2f}", figures["ratio_1_p50"]),
            (
                CLIENTS,
                f"{rn_50:.2f} / {rn_95:.2f}",
                f"{fn_50:.2f} / {fn_95:.2f}",
                figures["ratio_n_p50"],
            ),
            ("the check's read, another's event between", "", f"{fill_50:.3f} / {fill_95:.3f}", ""),
        ],
    )
    record("livefeed", figures)
    return figures
