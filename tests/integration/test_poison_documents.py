"""Poison documents cost one document, never the ingest queue.

Each test starts the ingest service with limits of its own (a small memory limit, a
one-second time limit, a one-second ack wait) on an embedded NATS and Postgres of this
module, so no other ingest service shares its work queue. A PDF bomb (240 KB that need
about 1 GB and a few seconds to read) is the pathological input.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
from contextlib import asynccontextmanager
from dataclasses import dataclass

import nats
import pytest

from contracts.ingest import (
    DOCUMENTS_BUCKET,
    DocumentRejected,
    DocumentView,
    GetDocument,
    RegisterUpload,
    UploadRegistered,
)
from runtime.eventstore import EventStore
from runtime.rpc import request
from runtime.settings import load_settings
from tests.conftest import TEST_ENV
from tests.integration.test_object_integrity import damage
from tests.support import pdfs
from tests.support.flows import create_expert, upload
from tests.support.hostile_pdfs import make_pdf_bomb
from tests.support.inprocess import start_service
from tests.support.objects import sealed_objects
from tests.support.servers import admin_connect, own_servers
from tests.support.waiting import until

pytestmark = pytest.mark.integration

PDF = "application/pdf"


@dataclass
class Stack:
    env: dict[str, str]
    nc: nats.NATS
    store: EventStore


@pytest.fixture(scope="module")
async def stack():
    with own_servers("simtune-poison-") as servers:
        env = {**TEST_ENV, **servers}
        expert = await start_service(load_settings(env), "expert")
        nc = await admin_connect(servers["NATS_URL"], servers["SIMTUNE_HOME"])
        try:
            yield Stack(env, nc, EventStore(nc.jetstream(), expert.sealer))  # opens sealed names
        finally:
            await nc.close()
            await expert.stop()


@asynccontextmanager
async def ingest(stack: Stack, **env: str):
    """The ingest service, started with these settings for the length of the block."""
    host = await start_service(load_settings({**stack.env, **env}), "ingest")
    try:
        yield host
    finally:
        await host.stop()


async def settled(nc, document_id: str, timeout: float = 90.0) -> DocumentView:
    """Ingest's view once it is done with the document (chunked or rejected)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        doc = await request(
            nc, "qry.ingest.get", GetDocument(document_id=document_id), DocumentView
        )
        if doc.status in ("chunked", "rejected"):
            return doc
        assert asyncio.get_running_loop().time() < deadline, f"stuck in {doc.status}"
        await asyncio.sleep(0.1)


async def log_of(store: EventStore, document_id: str) -> list:
    events, _ = await store.load("ingest", "local", "document", document_id)
    return events


def kinds(events: list) -> collections.Counter:
    return collections.Counter(rec.type.split(".")[1] for rec in events)


def parse_reactor(host):
    return next(r for r in host.reactors if r.name == "ingest.parse")


def good_pdf(n: int) -> bytes:
    return pdfs.make_pdf([f"Good document {n} explains the care of copper kettles. " * 30])


async def test_a_pdf_bomb_is_rejected_for_memory_while_the_good_documents_finish(stack):
    async with ingest(stack, SIMTUNE_PARSE_MEMORY_MB="256", SIMTUNE_MAX_DELIVERIES="3") as host:
        expert = await create_expert(stack.nc)
        bomb = await upload(stack.nc, expert, "bomb.pdf", make_pdf_bomb(), PDF)
        goods = [await upload(stack.nc, expert, f"good{n}.pdf", good_pdf(n), PDF) for n in range(3)]

        for reg in goods:
            assert (await settled(stack.nc, reg.document.id)).status == "chunked"
        doc = await settled(stack.nc, bomb.document.id)
        assert doc.status == "rejected"
        assert "3 times" in doc.reason and "memory" in doc.reason and "(256 MB)" in doc.reason

        events = await log_of(stack.store, bomb.document.id)
        assert kinds(events) == {
            "DocumentUploaded": 1,
            "DocumentParsingStarted": 1,
            "DocumentRejected": 1,
        }
        rejected = events[-1]
        assert isinstance(rejected.event, DocumentRejected)
        assert rejected.event.code == "too_complex"
        chunked = [(await log_of(stack.store, reg.document.id))[-1].seq for reg in goods]
        assert max(chunked) < rejected.seq  # the good ones did not wait for the bomb
        assert parse_reactor(host).health()["parked"] == 1


async def test_a_file_that_takes_too_long_to_read_is_rejected_at_once(stack):
    async with ingest(stack, SIMTUNE_PARSE_TIMEOUT_S="1", SIMTUNE_PARSE_MEMORY_MB="4096") as host:
        expert = await create_expert(stack.nc)
        bomb = await upload(stack.nc, expert, "slow.pdf", make_pdf_bomb(), PDF)
        doc = await settled(stack.nc, bomb.document.id)
        assert doc.status == "rejected"
        assert doc.reason.startswith("This file takes longer to read than Simtune allows")
        assert "(1 second)" in doc.reason
        events = await log_of(stack.store, bomb.document.id)
        assert events[-1].event.code == "too_complex"
        assert kinds(events)["DocumentParsingStarted"] == 1
        assert parse_reactor(host).health()["parked"] == 0  # decided on the first attempt


async def test_a_long_read_keeps_its_document_from_other_workers(stack):
    settings = dict(
        SIMTUNE_WORK_ACK_WAIT_S="1", SIMTUNE_PARSE_MEMORY_MB="4096", SIMTUNE_PARSE_WORKERS="2"
    )
    async with ingest(stack, **settings) as host:
        js = stack.nc.jetstream()
        parse = parse_reactor(host)
        consumer = await js.consumer_info("INGEST", parse.durable)
        assert consumer.config.ack_wait == 1.0  # the new ack wait applies to the old durable
        stream_before = (await js.stream_info("INGEST")).state.last_seq
        delivered_before = consumer.delivered.consumer_seq

        expert = await create_expert(stack.nc)
        reg = await upload(stack.nc, expert, "big.pdf", make_pdf_bomb(), PDF)  # ~3 s to read
        assert (await settled(stack.nc, reg.document.id)).status == "chunked"

        async def all_acknowledged():
            last = (await js.stream_info("INGEST")).state.last_seq
            info = await js.consumer_info("INGEST", parse.durable)
            return (last, info) if info.num_pending == info.num_ack_pending == 0 else None

        # Once every event is delivered and acknowledged, none can be delivered again.
        stream_after, done = await until(all_acknowledged, what="every event acknowledged")
        delivered = done.delivered.consumer_seq
        assert delivered - delivered_before == stream_after - stream_before  # each event once


async def test_a_damaged_upload_is_rejected_at_once_with_a_reason(stack):
    async with ingest(stack) as host:
        expert = await create_expert(stack.nc)
        data = good_pdf(7)
        name = f"local/{expert}/{hashlib.sha256(data).hexdigest()}"
        ref = await sealed_objects(stack.nc).put(DOCUMENTS_BUCKET, name, data, tenant="local")
        await damage(stack.nc, DOCUMENTS_BUCKET, name)
        cmd = RegisterUpload(expert_id=expert, filename="kettles.pdf", media_type=PDF, object=ref)
        reg = await request(stack.nc, "cmd.ingest.register_upload", cmd, UploadRegistered)

        doc = await settled(stack.nc, reg.document.id)
        assert doc.status == "rejected"
        assert doc.reason == (
            "The stored copy of this file is damaged, so Simtune cannot read it; delete this "
            "document and upload the file again."
        )
        assert parse_reactor(host).health()["parked"] == 0
