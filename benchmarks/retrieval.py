"""Retrieval: does the search put the page that answers a question first? (issue 19, item 5)

The page-labelled manuals of `tests.support.manual_set` (a 40-page command-line tool guide
with contents, licence and index pages, and a 12-page backup agent guide that shares its
vocabulary) are uploaded through the real pipeline (`flows.upload`: ingest reads and chunks
them in its sandbox, knowledge embeds and indexes them), with the expert, ingest and
knowledge services running in this process with default settings. Every labelled question
is then asked through `qry.knowledge.search` with k=6, what the expert service asks for.

Two experts: "one manual" holds the tallyctl guide alone; "two manuals" holds both, and a
hit only counts when its document and page are the labelled ones.

Figures per expert: top-1 (the first hit is on the answer page), top-5 (an answer-page hit
among the first five), MRR over the six hits, and every miss with the pages returned. For
the questions the manuals do not answer, the best hit's score is shown beside the best
score of the answered questions (a reader can see whether a threshold could tell them
apart; nothing is decided from it here).
"""

from __future__ import annotations

import asyncio

from benchmarks.common import Timer, begin, embedded_stack, print_table, record
from services.knowledge.embedder import Embedder
from tests.support.flows import create_expert, search, upload, wait_settled
from tests.support.inprocess import start_service
from tests.support.manual_set import MANUAL, MANUALS, Manual, Question
from tests.support.servers import admin_connect

K = 6  # what the expert service asks the search for


def score(questions: list[Question], hits: dict[str, list[tuple[str, int, float]]]) -> dict:
    """Top-1, top-5 and MRR over the answered questions, and the misses (pure)."""
    answered = [q for q in questions if q.page is not None]
    top1 = top5 = 0
    reciprocal = 0.0
    misses = []
    for q in answered:
        found = [(doc, page) for doc, page, _ in hits[q.question]]
        ranks = [n for n, hit in enumerate(found, start=1) if hit == (q.document, q.page)]
        rank = ranks[0] if ranks else None
        top1 += rank == 1
        top5 += rank is not None and rank <= 5
        reciprocal += 1 / rank if rank else 0.0
        if rank != 1:
            misses.append(
                {
                    "question": q.question,
                    "document": q.document,
                    "expected": q.page,
                    "rank": rank,
                    "returned": [  # another document's page is named by its filename
                        page if doc == q.document else f"{doc}:{page}" for doc, page in found
                    ],
                }
            )
    unanswered = [hits[q.question][0][2] for q in questions if q.page is None and hits[q.question]]
    return {
        "questions": len(answered),
        "top1": top1 / len(answered),
        "top5": top5 / len(answered),
        "mrr": reciprocal / len(answered),
        "top1_count": top1,
        "top5_count": top5,
        "misses": misses,
        "unanswered_best_score_max": max(unanswered, default=None),
    }


async def ask_all(nc, expert: str, questions: list[Question]) -> dict:
    out = {}
    for q in questions:
        results = (await search(nc, expert, q.question, k=K)).results
        out[q.question] = [(h.filename, h.page, h.score) for h in results]
    return out


async def load(nc, manuals: tuple[Manual, ...]) -> tuple[str, int]:
    expert = await create_expert(nc)
    chunks = 0
    for manual in manuals:
        reg = await upload(nc, expert, manual.filename, manual.build(), "application/pdf")
        status, doc = await wait_settled(nc, reg.document.id, timeout=300)
        if status != "ready":
            raise RuntimeError(f"{manual.filename} ended {status}: {doc.reason}")
        chunks += doc.chunks
    return expert, chunks


async def run() -> dict:
    begin()
    results = {}
    async with embedded_stack() as stack:
        settings = stack.settings()
        embedder = await asyncio.to_thread(
            Embedder, settings.embedding_model, batch_size=settings.embedding_batch_size
        )
        hosts = [
            await start_service(settings, c, embedder) for c in ("expert", "ingest", "knowledge")
        ]
        nc = await admin_connect(stack.nats_url, stack.home)
        try:
            for label, manuals in (("one manual", (MANUAL,)), ("two manuals", MANUALS)):
                with Timer() as ingest:
                    expert, chunks = await load(nc, manuals)
                questions = [q for m in manuals for q in m.questions]
                with Timer() as asking:
                    hits = await ask_all(nc, expert, questions)
                results[label] = {
                    **score(questions, hits),
                    "chunks": chunks,
                    "ingest_s": ingest.s,
                    "search_s": asking.s,
                }
        finally:
            await nc.close()
            for host in hosts:
                await host.stop()
    return report(results)


def report(results: dict) -> dict:
    print_table(
        f"retrieval: page-labelled manuals (tests/support/manual_set.py), k={K}",
        ("expert", "questions", "chunks", "top-1", "top-5", "MRR", "unanswered best score"),
        [
            (
                label,
                r["questions"],
                r["chunks"],
                f"{r['top1']:.3f} ({r['top1_count']})",
                f"{r['top5']:.3f} ({r['top5_count']})",
                r["mrr"],
                r["unanswered_best_score_max"],
            )
            for label, r in results.items()
        ],
    )
    for label, r in results.items():
        print(f"\n  misses ({label}): expected page, rank, pages returned")
        for miss in r["misses"]:
            doc = "" if miss["document"] == MANUAL.filename else f"[{miss['document']}] "
            print(
                f"    {doc}{miss['question']!r}: p{miss['expected']}, "
                f"rank {miss['rank']}, {miss['returned']}"
            )
    record("retrieval", {"k": K, **results})
    return results
