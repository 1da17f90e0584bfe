"""Replicated log: what three replicas cost an append, on a real three-server cluster.

Three `nats-server`s clustered on loopback (`tests/support/nats_cluster.py`: the embedded
server's binary, fsync on every write, the same users), JetStream's meta leader elected. The
EXPERT stream is made by `EventStore.ensure_stream` with one replica (the **baseline**), then
deleted and made again with three; each time 1,000 expert events go through
`EventStore.append` (expected last-subject sequence, the Simtune headers), awaited one by one,
so each figure is one append's round trip: the stream leader's fsync alone for R1, the leader
and a quorum of its followers for R3. Done in two halves of each in alternating order (R1, R3,
R3, R1), so drift on a noisy machine hits both alike. Every stream ends with exactly the
events sent.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.common import begin, print_table, record
from benchmarks.eventstore import expert_events
from runtime.eventstore import EventStore
from tests.support.nats_cluster import nats_cluster

EVENTS, WARMUP = 1_000, 50


async def timed_appends(js, replicas: int, seed: int) -> list[float]:
    """A fresh EXPERT stream of `replicas`, warmed, then EVENTS // 2 appends timed one by one.
    `js` is the admin's: only admin may delete a stream."""
    if any(info.config.name == "EXPERT" for info in await js.streams_info()):
        await js.delete_stream("EXPERT")
    store = EventStore(js, replicas=replicas)
    stream = await store.ensure_stream("expert")
    info = await js.stream_info(stream)
    if info.config.num_replicas != replicas:
        raise RuntimeError(f"{stream} has {info.config.num_replicas} replicas, not {replicas}")
    for aggregate, event in expert_events(WARMUP, WARMUP, seed=seed + 100):
        await store.append("expert", "bench", "expert", aggregate, event, expected_seq=None)
    times = []
    for aggregate, event in expert_events(EVENTS // 2, EVENTS // 2, seed=seed):
        started = time.perf_counter()
        await store.append("expert", "bench", "expert", aggregate, event, expected_seq=0)
        times.append(time.perf_counter() - started)
    held = (await js.stream_info(stream)).state.messages
    if held != WARMUP + EVENTS // 2:
        raise RuntimeError(f"{stream} holds {held} events, not {WARMUP + EVENTS // 2}")
    return times


def _ms(times: list[float], q: int) -> float:
    return statistics.quantiles(times, n=100)[q - 1] * 1000


async def run() -> dict:
    begin()
    with nats_cluster("simtune-bench-cluster-") as cluster:
        await cluster.meta_leader()
        nc = await cluster.connect()
        try:
            js = nc.jetstream(timeout=10)
            one = await timed_appends(js, 1, seed=1)
            three = await timed_appends(js, 3, seed=2)
            three += await timed_appends(js, 3, seed=3)
            one += await timed_appends(js, 1, seed=4)
        finally:
            await nc.close()
    figures = {
        "r1_p50_ms": _ms(one, 50),
        "r1_p95_ms": _ms(one, 95),
        "r3_p50_ms": _ms(three, 50),
        "r3_p95_ms": _ms(three, 95),
        "r1_appends_per_s": len(one) / sum(one),
        "r3_appends_per_s": len(three) / sum(three),
    }
    figures["p50_ratio"] = figures["r3_p50_ms"] / figures["r1_p50_ms"]
    figures["p95_ratio"] = figures["r3_p95_ms"] / figures["r1_p95_ms"]
    print_table(
        f"append on a three-server cluster ({EVENTS} appends a side, one at a time)",
        ("stream", "p50 ms", "p95 ms", "appends/s"),
        [
            (
                "baseline: 1 replica",
                figures["r1_p50_ms"],
                figures["r1_p95_ms"],
                figures["r1_appends_per_s"],
            ),
            ("3 replicas", figures["r3_p50_ms"], figures["r3_p95_ms"], figures["r3_appends_per_s"]),
            ("ratio 3 / 1", figures["p50_ratio"], figures["p95_ratio"], ""),
        ],
    )
    record("replicas", figures)
    return figures
