"""Ingest pages/s and answers/s on the cluster shape, beside the single-machine shape measured
in the same run (issue 23).

Both shapes are the real multi-process stack, started as `make run` and `make run-cluster`
start them, each in a fresh home with the product's default settings (quiet logs, the
user's cache so the embedder is converted once per machine, not per stack):

* **single machine** (the baseline): `Stack`, one NATS, one process of every service and
  of the gateway, streams of one replica;
* **cluster**: `ClusterStack`, three clustered NATS nodes, every stream on three replicas,
  `--replicas` processes of every service and gateway, the gateways on one port
  (`SO_REUSEPORT`).

The single-machine shape runs first, then the cluster, one after the other on the same
cores; the figures to read are the ratios. On each, once healthy and with its owner made
over NATS (`simtune admin users create`'s way):

1. **warm-up** (not timed): an expert gets the orchard document of `benchmarks.answers` and
   waits until it is ready, so every service has done its first piece of work;
2. **ingest**: another expert gets `--documents` text PDFs of `--pages` pages each
   (`benchmarks.corpus`, a different seed each, built once before either stack starts),
   uploaded through the gateway one after the other; timed from the first upload until
   every one is `ready` as `GET /api/experts/{id}/documents` shows it (`documents_ready`,
   which asks every 0.2 s). Each document must end with its pages; pages/s is their sum
   over that time;
3. **answers**: `--asks` questions of `benchmarks.answers` to the orchard expert through
   `POST /api/experts/{id}/ask` (RAG, `--tokens` tokens at most, so it measures the pipeline
   more than the model), `--concurrency` at a time; first two rounds of `--concurrency`
   asks untimed, which load the bundled model in every expert process (in the cluster a
   question goes to either of them). Answers/s is the asks over the wall time; p50 and p95
   are one ask's time, request to reply.

`python -m benchmarks cluster`, or `python -m benchmarks.cluster [--documents N] [--pages N]
[--asks N] [--concurrency N] [--tokens N] [--replicas N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from rich.console import Console

from benchmarks import corpus
from benchmarks.answers import DOCUMENT, QUESTIONS
from benchmarks.commands import owner_over
from benchmarks.common import Timer, begin, documents_ready, percentiles, print_table, record
from runtime.devstack import Stack
from runtime.devstack.cluster import ClusterStack
from runtime.devstack.util import free_port
from runtime.settings import load_settings
from tests.support.pdfs import make_pdf

DOCUMENTS, PAGES = 6, 20
ASKS, CONCURRENCY, TOKENS = 24, 4, 8
REPLICAS = 2
START_TIMEOUT_S = 900.0  # twenty processes importing torch on two busy cores
INGEST_TIMEOUT_S = 900.0
WARMUP_ROUNDS = 2
COMPARED = ("pages_per_s", "answers_per_s", "p50_ms", "p95_ms", "service_p50_ms")


def stack_env(home: Path) -> dict[str, str]:
    """The product's defaults, but quiet, with the user's cache (the embedder converted to
    ONNX once per machine) and temporary files inside the stack's home."""
    return {
        "SIMTUNE_LOG_LEVEL": "warning",
        "SIMTUNE_CACHE_DIR": str(load_settings({}).cache_dir),
        "TMPDIR": str(home / "tmp"),
    }


@asynccontextmanager
async def serving(
    shape: str, replicas: int
) -> AsyncIterator[tuple[Stack, httpx.AsyncClient, float]]:
    """The stack of `shape` in a fresh home, healthy, with an httpx client of its gateway
    signed in as its owner, and the seconds it took to start; stopped and removed on exit.
    A stack that cannot start raises with the tail of its output."""
    home = Path(tempfile.mkdtemp(prefix=f"simtune-bench-{shape}-"))
    (home / "tmp").mkdir()
    output = io.StringIO()
    options = dict(
        port=free_port(),
        env=stack_env(home),
        health_timeout=START_TIMEOUT_S,
        console=Console(file=output, width=300, force_terminal=False),
    )
    stack = (
        ClusterStack(home, replicas=replicas, **options)
        if shape == "cluster"
        else Stack(home, **options)
    )
    running = asyncio.create_task(stack.run(handle_signals=False))
    up = asyncio.create_task(stack.ready.wait())
    try:
        with Timer() as starting:
            await asyncio.wait({running, up}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            running.result()  # a StackError says why
            raise RuntimeError(f"the {shape} stack ended before it was ready")
        person = await owner_over(stack.nats_url.split(",")[0], stack.home)
        async with httpx.AsyncClient(
            base_url=stack.base_url, headers=person.headers, timeout=300.0
        ) as api:
            yield stack, api, starting.s
    except BaseException:
        print(output.getvalue()[-4000:], file=sys.stderr)
        raise
    finally:
        up.cancel()
        stack.stop()
        await asyncio.wait_for(running, 180)
        shutil.rmtree(home, ignore_errors=True)


async def new_expert(api: httpx.AsyncClient, name: str) -> str:
    reply = await api.post("/api/experts", json={"name": name, "domain": "the Brambleton orchard"})
    reply.raise_for_status()
    return reply.json()["id"]


async def ingest(api: httpx.AsyncClient, books: list[bytes], pages: int) -> dict:
    """Upload `books` to a new expert and time until all are ready; each must hold `pages`."""
    expert_id = await new_expert(api, "Bench library")
    files = [(f"book-{n}.pdf", data, "application/pdf") for n, data in enumerate(books)]
    with Timer() as took:
        await asyncio.wait_for(documents_ready(api, expert_id, files), INGEST_TIMEOUT_S)
    documents = (await api.get(f"/api/experts/{expert_id}/documents")).json()
    wrong = [d for d in documents if d["pages"] != pages]
    if wrong:
        raise RuntimeError(f"documents ready with other than {pages} pages: {wrong}")
    total = sum(d["pages"] for d in documents)
    return {
        "documents": len(documents),
        "pages": total,
        "chunks": sum(d["chunks"] for d in documents),
        "ingest_s": took.s,
        "pages_per_s": total / took.s,
    }


async def answers(
    api: httpx.AsyncClient, expert_id: str, asks: int, concurrency: int, tokens: int
) -> dict:
    """`asks` questions, `concurrency` at a time; each reply must be an answer."""
    latencies: list[float] = []
    inside: list[float] = []  # the service's own `latency_ms`: the rest is queueing and hops
    questions = asyncio.Queue()
    for n in range(asks):
        questions.put_nowait(QUESTIONS[n % len(QUESTIONS)])

    async def asker() -> None:
        while not questions.empty():
            body = {"question": questions.get_nowait(), "mode": "rag", "max_tokens": tokens}
            started = time.perf_counter()
            reply = await api.post(f"/api/experts/{expert_id}/ask", json=body)
            latencies.append(time.perf_counter() - started)
            if reply.status_code != 200 or not reply.json().get("answer_id"):
                raise RuntimeError(f"an ask answered {reply.status_code}: {reply.text[:300]}")
            inside.append(reply.json()["latency_ms"] / 1000)

    with Timer() as took:
        await asyncio.gather(*(asker() for _ in range(concurrency)))
    p50, p95 = percentiles(latencies)
    return {
        "asks": asks,
        "answers_s": took.s,
        "answers_per_s": asks / took.s,
        "p50_ms": p50,
        "p95_ms": p95,
        "service_p50_ms": percentiles(inside)[0],
    }


async def measure(shape: str, books: list[bytes], options: argparse.Namespace) -> dict:
    load = os.getloadavg()[0]  # other work on the machine skews one shape and not the other
    async with serving(shape, options.replicas) as (_, api, start_s):
        orchard = await new_expert(api, "Orchard guide")
        with Timer() as warming:
            await documents_ready(api, orchard, [("orchard.txt", DOCUMENT.encode(), "text/plain")])
        figures = {
            "load_1m_at_start": load,
            "start_s": start_s,
            "warmup_ingest_s": warming.s,
        }
        figures |= await ingest(api, books, options.pages)
        warm = options.concurrency * WARMUP_ROUNDS
        with Timer() as loading:
            for _ in range(WARMUP_ROUNDS):
                await answers(
                    api, orchard, options.concurrency, options.concurrency, options.tokens
                )
        figures["warmup_asks"], figures["warmup_asks_s"] = warm, loading.s
        figures |= await answers(api, orchard, options.asks, options.concurrency, options.tokens)
    print(
        f"  {shape}: {figures['pages_per_s']:.2f} pages/s, {figures['answers_per_s']:.2f} answers/s",
        flush=True,
    )
    return figures


async def run(options: argparse.Namespace | None = None) -> dict:
    options = options or parse([])
    begin()
    with Timer() as making:
        books = [make_pdf(corpus.book(options.pages, seed=n)) for n in range(options.documents)]
    print(
        f"cluster: {options.documents} PDFs of {options.pages} pages built in {making.s:.1f}s "
        "(not part of any figure)",
        flush=True,
    )
    single = await measure("single", books, options)
    cluster = await measure("cluster", books, options)
    ratios = {key: cluster[key] / single[key] for key in COMPARED}
    figures = {
        **vars(options),
        "single": single,
        "cluster": cluster,
        "ratio_cluster_to_single": ratios,
    }
    rows = [
        (name, f["start_s"], *(f[key] for key in COMPARED))
        for name, f in (
            ("baseline: single machine (1 NATS, 1 process each)", single),
            (f"cluster (3 NATS, R3, {options.replicas} processes each)", cluster),
        )
    ]
    rows.append(("ratio cluster / single", "", *ratios.values()))
    print_table(
        f"cluster shape beside one machine: {options.documents} x {options.pages}-page PDFs; "
        f"{options.asks} asks, {options.concurrency} at a time, {options.tokens} tokens at most",
        ("shape", "start s", "pages/s", "answers/s", "ask p50 ms", "ask p95 ms", "service p50 ms"),
        rows,
    )
    record("cluster", figures)
    return figures


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cluster")
    parser.add_argument("--documents", type=int, default=DOCUMENTS, help="PDFs to ingest")
    parser.add_argument("--pages", type=int, default=PAGES, help="pages of each PDF")
    parser.add_argument("--asks", type=int, default=ASKS, help="timed questions")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="asks at a time")
    parser.add_argument("--tokens", type=int, default=TOKENS, help="an answer's tokens, at most")
    parser.add_argument("--replicas", type=int, default=REPLICAS, help="cluster: processes of each")
    options = parser.parse_args(argv)
    for name in ("documents", "pages", "asks", "concurrency", "tokens", "replicas"):
        if getattr(options, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return options


if __name__ == "__main__":
    asyncio.run(run(parse(sys.argv[1:])))
