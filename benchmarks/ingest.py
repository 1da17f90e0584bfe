"""Ingest: pages/s from upload to searchable, beside parse + chunk + embed in one process.

Pipeline: a 300-page text PDF is put in the object store and registered (`flows.upload`),
then we wait until the document is `ready` as `flows.wait_settled` sees it, with the
expert, ingest and knowledge services running in this process with default settings.
Raw baseline: `parse_document` + `chunk_pages` + `Embedder.encode` of the same bytes, with
the same embedder instance and batch size; it runs before and after the pipeline and the
mean counts, so drift on a noisy machine shows up in the two baseline figures.
"""

from __future__ import annotations

import asyncio
import time

import nats

from benchmarks import corpus
from benchmarks.common import Timer, begin, embedded_stack, print_table, record
from services.ingest.chunking import chunk_pages
from services.ingest.parsing import PDF, parse_document
from services.knowledge.embedder import Embedder
from tests.support.flows import create_expert, upload, wait_settled
from tests.support.inprocess import start_service as start
from tests.support.pdfs import make_pdf

PAGES = 300


def raw_ingest(data: bytes, settings, embedder: Embedder) -> dict:
    with Timer() as parse:
        pages = parse_document(data, PDF, max_pages=settings.max_pages)
    with Timer() as chunk:
        chunks = chunk_pages(pages, size=settings.chunk_size, overlap=settings.chunk_overlap)
    with Timer() as embed:
        embedder.encode([c.text for c in chunks])
    total = parse.s + chunk.s + embed.s
    return {
        "pages": len(pages),
        "chunks": len(chunks),
        "parse_s": parse.s,
        "chunk_s": chunk.s,
        "embed_s": embed.s,
        "total_s": total,
    }


async def pipeline_ingest(nc, hosts: dict, data: bytes) -> dict:
    expert = await create_expert(nc)
    started = time.time()
    with Timer() as total:
        reg = await upload(nc, expert, "book.pdf", data, "application/pdf")
        status, doc = await wait_settled(nc, reg.document.id, timeout=600)
    ready = started + total.s
    if status != "ready" or doc.pages != PAGES:
        raise RuntimeError(f"pipeline ended {status} with {doc.pages} pages: {doc.reason}")
    return {
        "pages": doc.pages,
        "chunks": doc.chunks,
        "total_s": total.s,
        "stages_s": await stages(hosts, reg.document.id, started, ready),
    }


async def stages(hosts: dict, document_id: str, started: float, ready: float) -> dict:
    """Where the pipeline's time went, from the events' own timestamps (ms precision)."""
    at = {}
    for context in ("ingest", "knowledge"):
        events, _ = await hosts[context].store.load(context, "local", "document", document_id)
        at.update({rec.type.split(".")[1]: rec.at.timestamp() for rec in events})
    marks = [
        ("put + register_upload", started, at["DocumentUploaded"]),
        ("wait for parse reactor", at["DocumentUploaded"], at["DocumentParsingStarted"]),
        ("parse + chunk + put chunks", at["DocumentParsingStarted"], at["DocumentChunked"]),
        ("wait for index reactor", at["DocumentChunked"], at["EmbeddingStarted"]),
        ("embed + put matrix", at["EmbeddingStarted"], at["DocumentIndexed"]),
        ("projection insert -> ready seen", at["DocumentIndexed"], ready),
    ]
    return {name: end - start for name, start, end in marks}


async def run() -> dict:
    begin()
    with Timer() as making:
        data = make_pdf(corpus.book(PAGES))
    print(
        f"ingest: {PAGES}-page PDF ({len(data) / 1e6:.1f} MB) built in {making.s:.1f}s "
        "(not part of either figure)"
    )
    async with embedded_stack() as stack:
        settings = stack.settings()
        embedder = await asyncio.to_thread(
            Embedder, settings.embedding_model, batch_size=settings.embedding_batch_size
        )
        embedder.encode(corpus.book(2, seed=1))  # warm-up, outside both figures
        raw_before = raw_ingest(data, settings, embedder)
        hosts = {c: await start(settings, c, embedder) for c in ("expert", "ingest", "knowledge")}
        nc = await nats.connect(stack.nats_url)
        try:
            pipe = await pipeline_ingest(nc, hosts, data)
        finally:
            await nc.close()
            for host in hosts.values():
                await host.stop()
        raw_after = raw_ingest(data, settings, embedder)

    raw_s = (raw_before["total_s"] + raw_after["total_s"]) / 2
    figures = {
        "pages": PAGES,
        "chunks": pipe["chunks"],
        "pdf_bytes": len(data),
        "pdf_build_s": making.s,
        "pipeline_pages_per_s": PAGES / pipe["total_s"],
        "raw_pages_per_s": PAGES / raw_s,
        "ratio": raw_s / pipe["total_s"],
        "pipeline": pipe,
        "raw_before": raw_before,
        "raw_after": raw_after,
    }
    print_table(
        f"ingest: {PAGES} pages, {pipe['chunks']} chunks (chunk {settings.chunk_size}/"
        f"{settings.chunk_overlap}, embedding batch {settings.embedding_batch_size})",
        ("run", "seconds", "pages/s"),
        [
            ("pipeline: upload -> searchable", pipe["total_s"], figures["pipeline_pages_per_s"]),
            (
                "raw: parse+chunk+embed (before)",
                raw_before["total_s"],
                PAGES / raw_before["total_s"],
            ),
            ("raw: parse+chunk+embed (after)", raw_after["total_s"], PAGES / raw_after["total_s"]),
            ("ratio pipeline/raw (target >= 0.8)", "", figures["ratio"]),
        ],
    )
    print_table(
        "where the time goes",
        ("stage", "pipeline s", "raw s (mean)"),
        [
            *[(name, s, "") for name, s in pipe["stages_s"].items()],
            *[
                (f"raw {k[:-2]}", "", (raw_before[k] + raw_after[k]) / 2)
                for k in ("parse_s", "chunk_s", "embed_s")
            ],
        ],
    )
    record("ingest", figures)
    return figures
