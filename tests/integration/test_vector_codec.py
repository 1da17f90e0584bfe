"""Embeddings reach the index in pgvector's binary format: exactly the float32 values the
embedder computed (a text literal of 7 significant digits was not), with no text formatting
of every float on the event loop."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from contracts.knowledge import AGGREGATE, CONTEXT, DocumentIndexed
from services.knowledge.projections import chunk_id
from tests.support.flows import create_expert, upload, wait_settled

pytestmark = pytest.mark.integration


async def test_the_index_holds_the_embeddings_bit_for_bit(services, nc):
    host = services["knowledge"]
    expert = await create_expert(nc, "Precise")
    body = "".join(f"Paragraph {n} about tide tables and moon phases.\n\n" for n in range(60))
    reg = await upload(nc, expert, "tides.txt", body.encode(), "text/plain")
    status, _ = await wait_settled(nc, reg.document.id)
    assert status == "ready"
    events, _ = await host.store.load(CONTEXT, "local", AGGREGATE, reg.document.id)
    indexed = [e.event for e in events if isinstance(e.event, DocumentIndexed)][-1]
    stored = await host.objects.get(indexed.embeddings, tenant="local")
    computed = np.frombuffer(stored, dtype=np.float32)
    computed = computed.reshape(indexed.chunk_count, indexed.dimensions)
    assert indexed.chunk_count > 1
    async with host.engine.connect() as conn:
        for row in range(indexed.chunk_count):
            stored = await conn.scalar(
                text(
                    "SELECT embedding FROM knowledge.chunks WHERE tenant = 'local' AND chunk_id = :c"
                ),
                {"c": chunk_id(indexed.document_id, indexed.revision, row)},
            )
            assert stored.dtype == np.float32
            assert np.array_equal(stored, computed[row])
