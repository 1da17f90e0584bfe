"""What caused this? Every event a reactor appends names the event it reacted to, and every
event of one piece of work carries the correlation id of the request that started it, so the
chain from a person's upload to the indexed document can be read back off the log."""

from __future__ import annotations

import pytest

from contracts.ingest import AGGREGATE as DOCUMENT
from contracts.ingest import CONTEXT as INGEST
from contracts.ingest import DocumentChunked, DocumentParsingStarted, DocumentUploaded
from contracts.knowledge import CONTEXT as KNOWLEDGE
from contracts.knowledge import DocumentIndexed, EmbeddingStarted
from tests.support import pdfs
from tests.support.api import new_expert, settled, upload
from tests.support.log import log_store

pytestmark = pytest.mark.integration


async def test_the_chain_from_an_upload_to_the_index_reads_back_off_the_log(api, nc):
    expert = await new_expert(api)
    pdf = pdfs.make_pdf(["Tides rise twice a day. " * 20, "Currents follow the moon. " * 20])
    response = await upload(api, expert["id"], ("tides.pdf", pdf))
    assert response.status_code == 202, response.text
    (accepted,) = response.json()["documents"]
    assert (await settled(api, accepted["id"]))["status"] == "ready"

    store = log_store(nc)
    ingest, _ = await store.load(INGEST, "local", DOCUMENT, accepted["id"])
    knowledge, _ = await store.load(KNOWLEDGE, "local", DOCUMENT, accepted["id"])
    by_id = {rec.event_id: rec for rec in ingest + knowledge}

    indexed = next(rec for rec in knowledge if isinstance(rec.event, DocumentIndexed))
    chain = [indexed]
    while chain[-1].causation_id:
        chain.append(by_id[chain[-1].causation_id])
    kinds = [type(rec.event) for rec in chain]
    assert kinds[0] is DocumentIndexed
    assert DocumentChunked in kinds  # the index was built from the chunks ingest published
    assert kinds[-1] is DocumentUploaded  # and the chain ends at the person's upload
    assert chain[-1].causation_id == ""  # which nothing on the log caused

    uploaded = chain[-1]
    for rec in ingest + knowledge:  # one piece of work: one correlation id throughout
        assert rec.correlation_id == uploaded.correlation_id, rec.type
    reactions = [
        rec
        for rec in ingest + knowledge
        if isinstance(rec.event, DocumentParsingStarted | EmbeddingStarted)
    ]
    assert {type(rec.event) for rec in reactions} == {DocumentParsingStarted, EmbeddingStarted}
    for rec in reactions:  # and every reaction names its cause
        assert rec.causation_id in by_id, rec.type
