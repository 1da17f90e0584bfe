"""Killing services mid-ingest (SIGKILL, no goodbye) loses nothing and duplicates nothing.

The services run as real processes here, against their own embedded NATS and Postgres,
so a kill is a real crash: un-acked work is redelivered to the restarted process, and the
derived event ids plus the aggregates' expected sequences keep every effect single.
"""

from __future__ import annotations

import asyncio
import collections

import pytest
from sqlalchemy import text

from runtime.db import make_engine
from runtime.eventstore import EventStore
from tests.support import pdfs
from tests.support.flows import create_expert, search, upload, wait_settled
from tests.support.log import install_store
from tests.support.processes import own_processes, wait_for_service

pytestmark = pytest.mark.integration


async def event_types(store: EventStore, context: str, document_id: str) -> collections.Counter:
    events, _ = await store.load(context, "local", "document", document_id)
    return collections.Counter(rec.type.split(".")[1] for rec in events)


async def until_logged(store: EventStore, context: str, document_id: str, kind: str) -> None:
    deadline = asyncio.get_running_loop().time() + 120
    while (await event_types(store, context, document_id))[kind] == 0:
        assert asyncio.get_running_loop().time() < deadline, f"no {kind} in time"
        await asyncio.sleep(0.01)


@pytest.fixture
async def crashable():
    small_chunks = {
        "SIMTUNE_CHUNK_SIZE": "300",
        "SIMTUNE_CHUNK_OVERLAP": "40",
        "SIMTUNE_EMBEDDING_BATCH": "8",
    }
    crash = own_processes("simtune-crash-", small_chunks, keep_home=True)
    async with crash as (procs, nc, servers):
        yield procs, nc, servers["DATABASE_URL"]


async def test_killing_ingest_and_knowledge_mid_work_loses_and_duplicates_nothing(crashable):
    procs, nc, database_url = crashable
    for context in ("expert", "ingest", "knowledge"):
        procs.start(context)
    for context in ("expert", "ingest", "knowledge"):
        await wait_for_service(nc, context)
    store = install_store(
        nc, procs.env["SIMTUNE_HOME"], database_url, procs.env.get("SIMTUNE_SECRET_KEY")
    )

    expert = await create_expert(nc)
    pages = [
        f"Page {n}. " + f"Section {n} describes procedure number {n} in detail. " * 25
        for n in range(1, 31)
    ]
    pages[16] = "The secret ingredient of the house recipe is smoked paprika. " + pages[16]
    reg = await upload(nc, expert, "manual.pdf", pdfs.make_pdf(pages), "application/pdf")
    doc_id = reg.document.id

    await until_logged(store, "ingest", doc_id, "DocumentParsingStarted")
    procs.kill("ingest")  # mid-parse: the reader child is mid-way through the PDF
    assert (await event_types(store, "ingest", doc_id))["DocumentChunked"] == 0
    procs.start("ingest")
    await wait_for_service(nc, "ingest")

    await until_logged(store, "knowledge", doc_id, "EmbeddingStarted")
    procs.kill("knowledge")  # mid-embedding
    assert (await event_types(store, "knowledge", doc_id))["DocumentIndexed"] == 0
    procs.start("knowledge")

    status, doc = await wait_settled(nc, doc_id, timeout=180)
    assert status == "ready"
    assert await event_types(store, "ingest", doc_id) == {
        "DocumentUploaded": 1,
        "DocumentParsingStarted": 1,
        "DocumentChunked": 1,
    }
    assert await event_types(store, "knowledge", doc_id) == {
        "EmbeddingStarted": 1,
        "DocumentIndexed": 1,
    }

    engine = make_engine(database_url)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT ord) FROM knowledge.chunks WHERE document_id = :d"
                ),
                {"d": doc_id},
            )
        ).one()
    await engine.dispose()
    assert rows[0] == rows[1] == doc.chunks > 30
    hit = (await search(nc, expert, "What is the secret ingredient of the recipe?")).results[0]
    assert hit.page == 17 and "smoked paprika" in hit.text
