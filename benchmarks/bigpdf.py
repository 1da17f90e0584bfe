"""A 2,415-page PDF (the size of R's reference manual): time and peak memory of reading it
in the ingest sandbox (a child interpreter under the default limits), beside the same
parse + chunk run in this process (the raw baseline), same run, sandbox first.

Peak memory: the child's maximum resident set (RUSAGE_CHILDREN, after it is reaped) for the
sandbox; for the baseline, how far this process's own maximum resident set rose.
"""

from __future__ import annotations

import random
import resource

from benchmarks import corpus
from benchmarks.common import Timer, begin, print_table, record
from runtime.settings import load_settings
from services.ingest.chunking import chunk_pages
from services.ingest.parsing import parse_document
from services.ingest.sandbox import Limits, read_in_child
from tests.support.pdfs import make_pdf

PAGES = 2_415


def manual(pages: int, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    topics = corpus.TOPICS
    return make_pdf(
        [
            " ".join(corpus.sentence(topics[n % len(topics)], rng) for _ in range(12))
            for n in range(pages)
        ]
    )


def max_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


async def run() -> None:
    begin()
    settings = load_settings({})
    with Timer() as made:
        data = manual(PAGES)
    limits = Limits.of(settings)

    async def heartbeat() -> None:
        return None

    with Timer() as sandboxed:
        read = await read_in_child(data, "application/pdf", limits, heartbeat=heartbeat)
    child_peak = max_rss_mb(resource.RUSAGE_CHILDREN)

    before = max_rss_mb(resource.RUSAGE_SELF)
    with Timer() as raw:
        pages = parse_document(data, "application/pdf", max_pages=settings.max_pages)
        chunks = chunk_pages(pages, size=settings.chunk_size, overlap=settings.chunk_overlap)
    raw_rise = max_rss_mb(resource.RUSAGE_SELF) - before
    assert read.pages == len(pages) == PAGES and read.chunk_count == len(chunks)

    rows = [
        (
            "sandbox: child interpreter, default limits",
            sandboxed.s,
            PAGES / sandboxed.s,
            child_peak,
        ),
        ("raw: parse + chunk in this process", raw.s, PAGES / raw.s, raw_rise),
        ("ratio sandbox/raw (pages/s)", "", round(raw.s / sandboxed.s, 3), ""),
    ]
    print(
        f"\nbigpdf: {PAGES} pages, {len(data) / 1e6:.1f} MB, {len(chunks)} chunks"
        f" (made in {made.s:.1f} s)"
    )
    print_table("", ("run", "seconds", "pages/s", "peak MB"), rows)
    record(
        "bigpdf",
        {
            "pages": PAGES,
            "bytes": len(data),
            "chunks": len(chunks),
            "sandbox_s": sandboxed.s,
            "sandbox_peak_mb": child_peak,
            "raw_s": raw.s,
            "raw_peak_rise_mb": raw_rise,
            "ratio": raw.s / sandboxed.s,
        },
    )
