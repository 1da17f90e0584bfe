"""Sealing personal content on the log (issue 21): its cost on append and on replay, each as
a ratio to the same path with no sealer, in the same run on the same servers.

Events: `AnswerGiven` as the expert service appends it (a question, three given passages of
~600 characters, an answer citing two of them: seven personal fields, four of them non-empty
and sealed), the heaviest kind of personal event; and `DocumentParsingStarted`, a type with
no personal fields (the fast path: most events on the log).

Append: EVENTS answers through `EventStore.append` with a `Sealer` (keyring in Postgres,
tenant key cached as in a service) beside the same through a store with none, one by one,
in eight rounds, each side first in every other one, so drift hits both alike. Both fsync
every append (`sync_interval: always`), which dominates; the CPU of sealing alone is given
too.

Replay: the messages of both streams read back once into memory, then decoded as a
projector does (`to_recorded`): sealed answers with the sealer, beside the same answers
appended plain and decoded with no sealer; and the events with no personal fields with the
sealer (one cached "is this tenant forgotten" lookup and a byte search) beside no sealer.
"""

from __future__ import annotations

import random
import time
import uuid

from benchmarks import corpus
from benchmarks.common import Timer, begin, embedded_stack, print_table, record
from contracts.answers import AnswerGiven
from contracts.answers.values import Citation, GivenSource
from contracts.ingest import DocumentParsingStarted
from runtime.codec import encode
from runtime.db import make_engine
from runtime.eventstore import EventStore, to_recorded
from runtime.keyring import Keyring
from runtime.sealing import MARK, Sealer
from runtime.secrets import SecretBox
from tests.support.servers import admin_connect

EVENTS, WARMUP, DECODE_ROUNDS, ROUNDS = 2_000, 100, 5, 8


def answers(count: int, seed: int) -> list[AnswerGiven]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        topic = corpus.TOPICS[n % len(corpus.TOPICS)]
        sources = [
            GivenSource(
                n=i,
                document_id=f"doc-{i}",
                filename=f"{topic.name} manual {i}.pdf",
                page=i,
                chunk_id=f"c{n}-{i}",
                text=corpus.paragraph(topic, rng)[:600],
            )
            for i in (1, 2, 3)
        ]
        out.append(
            AnswerGiven(
                answer_id=str(uuid.UUID(int=rng.getrandbits(128))),
                expert_id="bench",
                mode="rag",
                question=corpus.question(topic, rng),
                sources=sources,
                answer=f"{corpus.sentence(topic, rng)} [1] {corpus.sentence(topic, rng)} [2]",
                citations=[
                    Citation(**{k: getattr(s, k) for k in Citation.__struct_fields__})
                    for s in sources[:2]
                ],  # fmt: skip
                backend="local",
                model="tiny",
            )
        )
    return out


async def append_all(store: EventStore, events: list[AnswerGiven]) -> float:
    with Timer() as t:
        for event in events:
            await store.append("expert", "local", "answer", event.answer_id, event, expected_seq=0)
    return t.s


async def read_back(js, stream: str, subject: str) -> list:
    """Every message of `subject` (stream, seq, subject, data, headers), read once."""
    found, seq = [], 1
    while True:
        try:
            msg = await js.get_msg(stream, seq=seq, subject=subject, direct=True, next=True)
        except Exception:
            return found
        found.append((stream, msg.seq, msg.subject, msg.data, msg.headers))
        seq = msg.seq + 1


async def decode_all(messages: list, sealer: Sealer | None) -> float:
    """The best of DECODE_ROUNDS passes over `messages`, in seconds."""
    best = float("inf")
    for _ in range(DECODE_ROUNDS):
        started = time.perf_counter()
        for stream, seq, subject, data, headers in messages:
            await to_recorded(stream, seq, subject, data, headers, sealer)
        best = min(best, time.perf_counter() - started)
    return best


async def run() -> dict:
    begin()
    async with embedded_stack() as stack:
        nc = await admin_connect(stack.nats_url, stack.home)
        engine = make_engine(stack.database_url)
        js = nc.jetstream()
        sealer = Sealer(Keyring(engine, SecretBox.open(stack.home, None)))
        sealed_store, plain_store = EventStore(js, sealer), EventStore(js)
        await plain_store.ensure_stream("expert")
        await plain_store.ensure_stream("ingest")
        try:
            warm = answers(WARMUP, seed=1)
            await append_all(sealed_store, warm[: WARMUP // 2])
            await append_all(plain_store, warm[WARMUP // 2 :])
            sealed_s = plain_s = 0.0
            for r in range(ROUNDS):  # sealed first, then plain first, and so on
                batch = [answers(EVENTS // ROUNDS, seed=10 + 2 * r + k) for k in (0, 1)]
                for store in (sealed_store, plain_store)[:: 1 if r % 2 == 0 else -1]:
                    took = await append_all(store, batch.pop())
                    if store is sealed_store:
                        sealed_s += took
                    else:
                        plain_s += took

            cpu = answers(EVENTS, seed=6)
            with Timer() as encode_t:
                for event in cpu:
                    encode(event)
            with Timer() as seal_t:
                for event in cpu:
                    await sealer.seal("EXPERT", "local", event)

            for n in range(EVENTS):
                await plain_store.append(
                    "ingest", "local", "document", f"d{n}",
                    DocumentParsingStarted(document_id=f"d{n}", revision=1), expected_seq=None,
                )  # fmt: skip
            on_log = await read_back(js, "EXPERT", "evt.expert.local.answer.>")
            sealed = [m for m in on_log if MARK.encode() in m[3]]
            plain = [m for m in on_log if MARK.encode() not in m[3]]
            others = await read_back(js, "INGEST", "evt.ingest.local.document.>")
            assert len(sealed) == len(plain) == EVENTS + WARMUP // 2, (len(sealed), len(plain))
            opened = await to_recorded(*sealed[0], sealer)
            assert opened.event.question and opened.event.sources  # it opened
            sealed_decode_s = await decode_all(sealed, sealer)
            plain_decode_s = await decode_all(plain, None)
            fast_s = await decode_all(others, sealer)
            bare_s = await decode_all(others, None)
        finally:
            await nc.close()
            await engine.dispose()
    figures = {
        "events": EVENTS,
        "append_sealed_per_s": EVENTS / sealed_s,
        "append_plain_per_s": EVENTS / plain_s,
        "append_ratio": sealed_s / plain_s,
        "seal_cpu_us": seal_t.s / EVENTS * 1e6,
        "encode_cpu_us": encode_t.s / EVENTS * 1e6,
        "decode_sealed_us": sealed_decode_s / len(sealed) * 1e6,
        "decode_plain_us": plain_decode_s / len(plain) * 1e6,
        "decode_ratio": sealed_decode_s / len(sealed) / (plain_decode_s / len(plain)),
        "fast_path_us": fast_s / len(others) * 1e6,
        "no_sealer_us": bare_s / len(others) * 1e6,
        "fast_path_ratio": fast_s / bare_s,
    }
    print_table(
        f"sealing: {EVENTS:,} AnswerGiven appends each way; decode best of {DECODE_ROUNDS} passes",
        ("path", "figure", "ratio to no sealer"),
        [
            (
                "append AnswerGiven, sealed (events/s)",
                figures["append_sealed_per_s"],
                figures["append_ratio"],
            ),
            ("append AnswerGiven, no sealer (events/s)", figures["append_plain_per_s"], ""),
            (
                "CPU: seal one AnswerGiven (µs)",
                figures["seal_cpu_us"],
                figures["seal_cpu_us"] / figures["encode_cpu_us"],
            ),
            ("CPU: encode one AnswerGiven (µs)", figures["encode_cpu_us"], ""),
            (
                "replay decode AnswerGiven, sealed (µs/event)",
                figures["decode_sealed_us"],
                figures["decode_ratio"],
            ),
            (
                "replay decode AnswerGiven, plain, no sealer (µs/event)",
                figures["decode_plain_us"],
                "",
            ),
            (
                "replay decode, no personal fields, sealer (µs/event)",
                figures["fast_path_us"],
                figures["fast_path_ratio"],
            ),
            (
                "replay decode, no personal fields, no sealer (µs/event)",
                figures["no_sealer_us"],
                "",
            ),
        ],  # fmt: skip
    )
    record("sealing", figures)
    return figures
