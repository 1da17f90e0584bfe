"""A cleanup that comes late (redelivered, or run after a restart) cannot delete the file of a
document that was uploaded again since: every revision stores its original under the same
name, so only a document still deleted at that revision loses it."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import pytest
from nats.js.errors import ObjectNotFoundError

from contracts.ingest import DERIVED_BUCKET, DOCUMENTS_BUCKET
from runtime.consumers import delete_durable
from runtime.reactor import Reactor
from services.ingest.reactors.deletions import OnDocumentDeleted
from services.ingest.reactors.uploads import chunks_object_name
from tests.support import api as http
from tests.support import pdfs

pytestmark = pytest.mark.integration


async def stored(nc, bucket: str, name: str) -> bool:
    store = await nc.jetstream().object_store(bucket)
    try:
        await store.get_info(name)
    except ObjectNotFoundError:
        return False
    return True


async def until_gone(nc, bucket: str, name: str) -> None:
    deadline = asyncio.get_running_loop().time() + 30
    while await stored(nc, bucket, name):
        assert asyncio.get_running_loop().time() < deadline, f"{name} was never cleaned up"
        await asyncio.sleep(0.1)


async def replay_cleanup(stack, nc, document_id: str) -> None:
    """Deliver the document's events to the real cleanup reaction once more, late."""
    subject = f"evt.ingest.local.document.{document_id}"
    late = Reactor(
        nc,
        f"test.late-cleanup.{uuid.uuid4().hex[:8]}",
        "INGEST",
        OnDocumentDeleted(stack.hosts["ingest"]).react,
        subject=subject,
        sealer=stack.hosts["ingest"].sealer,
    )
    await late.start()
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            info = await nc.jetstream().consumer_info("INGEST", late.durable)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                break
            assert asyncio.get_running_loop().time() < deadline, "the late cleanup never ran"
            await asyncio.sleep(0.1)
        assert late.health()["parked"] == 0
    finally:
        await late.stop()
        await delete_durable(nc.jetstream(), "INGEST", late.durable)


async def test_a_late_cleanup_keeps_the_file_of_a_reupload(stack, api, nc):
    expert = (await http.new_expert(api))["id"]
    data = pdfs.make_pdf(["The hinge manual explains how to oil brass hinges. " * 30])
    original = f"local/{expert}/{hashlib.sha256(data).hexdigest()}"

    first = (await http.upload(api, expert, ("hinges.pdf", data))).json()["documents"][0]
    await http.settled(api, first["id"])
    assert (await api.delete(f"/api/documents/{first['id']}")).status_code == 204
    await until_gone(nc, DOCUMENTS_BUCKET, original)  # the cleanup of revision 1 ran

    again = (await http.upload(api, expert, ("hinges.pdf", data))).json()["documents"][0]
    assert again["id"] == first["id"] and not again["duplicate"]
    assert (await http.settled(api, again["id"]))["status"] == "ready"

    await replay_cleanup(stack, nc, again["id"])

    response = await api.get(f"/api/documents/{again['id']}/file")
    assert response.status_code == 200, response.text
    assert response.content == data
    assert not await stored(nc, DERIVED_BUCKET, chunks_object_name("local", again["id"], 1))
    assert await stored(nc, DERIVED_BUCKET, chunks_object_name("local", again["id"], 2))
