"""Sealing objects (issue 21): what it costs to store and read an object sealed for its
owner, as a ratio to the same object stored in plain text, in the same run on the same
servers.

Payloads: an original of `BIG` bytes (a few MB of prose, the size of an uploaded manual)
and a chunk list's worth, `SMALL` bytes (what ingest and knowledge store for each
document), each put and then read back whole (`get`, its sha256 checked) through
`runtime.objects.Objects`:

* sealed, keys from the keyring in Postgres (`LocalObjectKeys`, what a service uses; the
  tenant's data key cached as in a service, so each put seals a fresh object key and each
  read opens it);
* sealed, keys asked of a service over NATS (`RemoteObjectKeys`, what the gateway uses for
  uploads and downloads; a bare `ServiceHost` answers);
* plain (`keys=None`, no sealing): the baseline.

The three go in turn, the order rotating every round so drift hits them alike; the median
of `ROUNDS` is given. The CPU of sealing and opening alone (AES-256-GCM frames in memory, no
store) is given too, in MB/s.
"""

from __future__ import annotations

import hashlib
import io
import random
import statistics
import uuid

from benchmarks import corpus
from benchmarks.common import Timer, begin, embedded_stack, print_table, record
from runtime.keyring import Keyring
from runtime.object_keys import LocalObjectKeys, RemoteObjectKeys
from runtime.objects import Objects
from runtime.sealed_objects import OpeningWriter, SealingReader
from runtime.secrets import SecretBox
from runtime.service import ServiceHost
from tests.support.servers import admin_connect

BIG, SMALL = 8 * 1024 * 1024, 96 * 1024
ROUNDS = {BIG: 9, SMALL: 41}
BUCKET, TENANT = "bench-objects", "local"
CPU_BYTES = 64 * 1024 * 1024
STORE_BLOCK = 128 * 1024  # what the object store reads and delivers at a time
SIDES = ("sealed, local keys", "sealed, keys over NATS", "plain")
SLUGS = dict(zip(SIDES, ("local", "remote", "plain"), strict=True))


def prose(size: int, seed: int) -> bytes:
    rng, parts, total = random.Random(seed), [], 0
    while total < size:
        topic = corpus.TOPICS[len(parts) % len(corpus.TOPICS)]
        part = (corpus.paragraph(topic, rng) + "\n\n").encode()
        parts.append(part)
        total += len(part)
    return b"".join(parts)[:size]


async def round_trip(objects: Objects, data: bytes) -> tuple[float, float]:
    """Seconds to put `data`, then to read it back whole."""
    name = f"{TENANT}/{uuid.uuid4().hex}"
    with Timer() as put:
        ref = await objects.put(BUCKET, name, data, tenant=TENANT)
    with Timer() as get:
        got = await objects.get(ref, tenant=TENANT)
    assert got == data
    await objects.delete(BUCKET, name)
    return put.s, get.s


async def compare(sides: dict[str, Objects], data: bytes) -> dict[str, tuple[float, float]]:
    """Per side, the median seconds of put and of get over the rounds, order rotating."""
    names = list(sides)
    times: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    for name in names:  # warm: buckets, the tenant's key, code paths
        await round_trip(sides[name], data)
    for n in range(ROUNDS[len(data)]):
        for name in names[n % len(names) :] + names[: n % len(names)]:
            times[name].append(await round_trip(sides[name], data))
    return {
        name: (
            statistics.median(t[0] for t in times[name]),
            statistics.median(t[1] for t in times[name]),
        )
        for name in names
    }


def cpu_only(key: bytes, wrapped: bytes) -> tuple[float, float]:
    """MB/s of sealing, then of opening, `CPU_BYTES` in memory."""
    plain = prose(CPU_BYTES, seed=9)
    with Timer() as sealing:
        reader = SealingReader(io.BytesIO(plain), key, wrapped, BUCKET, "local/cpu", hashing=False)
        out, block = io.BytesIO(), bytearray(STORE_BLOCK)
        while n := reader.readinto(block):  # as the object store reads it
            out.write(memoryview(block)[:n])
        sealed = out.getvalue()
    sink = io.BytesIO()
    with Timer() as opening:
        writer = OpeningWriter(sink, BUCKET, "local/cpu", lambda _: key)
        view = memoryview(sealed)
        for at in range(0, len(sealed), STORE_BLOCK):  # as the object store delivers it
            writer.write(view[at : at + STORE_BLOCK])
        writer.finish()
    assert hashlib.sha256(sink.getvalue()).digest() == hashlib.sha256(plain).digest()
    mb = CPU_BYTES / 1e6
    return mb / sealing.s, mb / opening.s


async def run() -> dict:
    begin()
    async with embedded_stack() as stack:
        settings = stack.settings()
        host = ServiceHost("ingest", "ingest", settings)  # answers the gateway's key queries
        await host.connect()
        await host.start()
        nc = await admin_connect(stack.nats_url, stack.home)
        keyring = Keyring(host.engine, SecretBox.open(stack.home, None))
        js = nc.jetstream()
        sides = {
            SIDES[0]: Objects(js, LocalObjectKeys(keyring)),
            SIDES[1]: Objects(js, RemoteObjectKeys(nc)),
            SIDES[2]: Objects(js, None),
        }
        try:
            big = await compare(sides, prose(BIG, seed=1))
            small = await compare(sides, prose(SMALL, seed=2))
            key, wrapped = await LocalObjectKeys(keyring).new(TENANT, BUCKET, "local/cpu")
            seal_mb_s, open_mb_s = cpu_only(key, wrapped)
        finally:
            await nc.close()
            await host.stop()
    plain_big, plain_small = big[SIDES[2]], small[SIDES[2]]
    figures: dict = {"big_bytes": BIG, "small_bytes": SMALL}
    rows = []
    for side in sides:
        for label, size, measured, plain in (
            ("8 MiB", BIG, big[side], plain_big),
            ("96 KiB", SMALL, small[side], plain_small),
        ):
            key_ = f"{SLUGS[side]}_{'big' if size == BIG else 'small'}"
            put_s, get_s = measured
            figures[f"{key_}_put_ms"] = put_s * 1000
            figures[f"{key_}_get_ms"] = get_s * 1000
            figures[f"{key_}_put_ratio"] = put_s / plain[0]
            figures[f"{key_}_get_ratio"] = get_s / plain[1]
            rows.append(
                (
                    f"{side}, {label}",
                    put_s * 1000,
                    size / put_s / 1e6,
                    put_s / plain[0] if side != SIDES[2] else "",
                    get_s * 1000,
                    size / get_s / 1e6,
                    get_s / plain[1] if side != SIDES[2] else "",
                )
            )
    figures["seal_cpu_mb_s"], figures["open_cpu_mb_s"] = seal_mb_s, open_mb_s
    print_table(
        f"objects: put then get, median of {ROUNDS[BIG]} (8 MiB) / {ROUNDS[SMALL]} (96 KiB) rounds",
        ("path", "put ms", "put MB/s", "put ×plain", "get ms", "get MB/s", "get ×plain"),
        rows,
    )
    print_table(
        "objects: the CPU of sealing alone (AES-256-GCM, 1 MiB frames, in memory)",
        ("direction", "MB/s"),
        [("seal", seal_mb_s), ("open", open_mb_s)],
    )
    record("objects", figures)
    return figures
