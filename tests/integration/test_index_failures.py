"""Indexing that cannot succeed ends as a failed document with a reason, never as a retry
loop: passages that cannot be read fail at once; work that failed every attempt is given up."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from contracts.ingest import DERIVED_BUCKET, DocumentChunked
from contracts.knowledge import GetIndexStatus, IndexStatus, IndexStatuses
from runtime.eventstore import RecordedEvent
from runtime.rpc import request
from services.knowledge.reactors import PASSAGES_UNREADABLE, OnDocuments, gave_up
from tests.support.document_events import chunked
from tests.support.flows import create_expert
from tests.support.log import log_store
from tests.support.objects import sealed_objects

pytestmark = pytest.mark.integration


def chunked_notes(document_id: str, expert_id: str, chunks) -> DocumentChunked:
    """notes.md, one page cut into one passage."""
    return chunked(
        chunks,
        document_id=document_id,
        expert_id=expert_id,
        filename="notes.md",
        pages=1,
        chunk_count=1,
    )


async def index_status(nc, document_id: str, timeout: float = 30.0) -> IndexStatus:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        query = GetIndexStatus(document_ids=[document_id])
        found = (await request(nc, "qry.knowledge.status", query, IndexStatuses)).statuses
        if found and found[0].status not in ("embedding",):
            return found[0]
        assert asyncio.get_running_loop().time() < deadline, f"still {found}"
        await asyncio.sleep(0.1)


async def test_a_chunk_list_that_cannot_be_decoded_fails_at_once(services, nc):
    expert, document_id = await create_expert(nc), str(uuid.uuid4())
    ref = await sealed_objects(nc).put(
        DERIVED_BUCKET,
        f"local/{document_id}/1.chunks.json",
        b'{"not": "a chunk list"}',
        tenant="local",
    )
    store = log_store(nc)
    event = chunked_notes(document_id, expert, ref)
    await store.append("ingest", "local", "document", document_id, event, expected_seq=None)

    status = await index_status(nc, document_id)
    assert (status.status, status.reason) == ("failed", PASSAGES_UNREADABLE)
    events, _ = await store.load("knowledge", "local", "document", document_id)
    assert [rec.type for rec in events] == [
        "knowledge.EmbeddingStarted",
        "knowledge.IndexingFailed",
    ]


async def test_giving_up_marks_the_document_failed_even_before_embedding_started(services, nc):
    expert, document_id = await create_expert(nc), str(uuid.uuid4())
    ref = await sealed_objects(nc).put(
        DERIVED_BUCKET, f"local/{document_id}/x", b"[]", tenant="local"
    )
    host = services["knowledge"]
    rec = RecordedEvent(
        event=chunked_notes(document_id, expert, ref),
        stream="INGEST",
        seq=1,
        subject=f"evt.ingest.local.document.{document_id}",
        event_id=str(uuid.uuid4()),
        tenant="local",
        aggregate_id=document_id,
        occurred_at="",
        correlation_id="test",
    )
    documents = OnDocuments(host, embedder=None)
    await documents.give_up(rec, RuntimeError("the embedder crashed every time"))
    await documents.give_up(rec, RuntimeError("and once more, redelivered"))

    status = await index_status(nc, document_id)
    assert (status.status, status.reason) == ("failed", gave_up(host.settings.max_deliveries))
    events, _ = await log_store(nc).load("knowledge", "local", "document", document_id)
    assert [rec.type for rec in events] == [
        "knowledge.EmbeddingStarted",
        "knowledge.IndexingFailed",
    ]
