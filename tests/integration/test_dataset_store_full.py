"""The event store's space runs out while a dataset is written, on the real stack as processes.

Datasets live in NATS JetStream's object store, so the storage that fills is JetStream's. Its
file store is capped (`SIMTUNE_NATS_MAX_STORE`) and filled up by the test: past the cap NATS
refuses every write with "insufficient resources" (it does not hit the disk, so JetStream
stays on). The build that meets it ends `failed` with a sentence saying storage is full, no
part of its examples is left in the bucket or registered, a build asked for while the store
is full is answered 503, and once space is freed a new build is ready without restarting
anything.
"""

from __future__ import annotations

import uuid

import httpx
import msgspec
import pytest
from nats.js import api as js_api
from nats.js.errors import NotFoundError, ServiceUnavailableError

from contracts.base import ObjectRef
from runtime.outages import NATS_INSUFFICIENT_RESOURCES
from tests.support.devstack import running_stack, until
from tests.support.objects import sealed_objects
from tests.support.servers import admin_connect
from tests.support.tiny_llm import build_tiny_llm

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FILLER = "FILLER"
BLOCK = 64 * 1024  # bytes of one filler message
# Room left for the build, in filler blocks: more than its request (its manual examples) and
# progress take on the log, less than its examples object (each example repeats the expert's
# system prompt), whose put is refused midway.
ROOM_BLOCKS = 5
EXAMPLES = 500
MAX_STORE_MB = 32


@pytest.fixture
async def stack(tmp_path_factory):
    model = build_tiny_llm(tmp_path_factory.mktemp("store-llm"))
    env = {
        "SIMTUNE_NATS_MAX_STORE": f"{MAX_STORE_MB}MB",
        "SIMTUNE_MAX_DELIVERIES": "2",
        "SIMTUNE_BASE_MODEL": str(model),
    }
    async with (
        running_stack("simtune-store-", env) as stack,
        httpx.AsyncClient(
            base_url=stack.base_url, timeout=30.0, headers=stack.owner.headers
        ) as api,
    ):
        nc = await admin_connect(stack.nats.url, stack.home)
        try:
            yield stack, api, nc
        finally:
            await nc.close()


async def fill(js, block: int = BLOCK) -> int:
    """Write filler blocks of `block` bytes until JetStream refuses for want of space; how
    many it took."""
    written = 0
    while True:
        try:
            await js.publish(f"filler.{written}", b"\0" * block, stream=FILLER)
        except ServiceUnavailableError as exc:
            assert exc.err_code == NATS_INSUFFICIENT_RESOURCES, exc
            return written
        written += 1
        assert written * block <= MAX_STORE_MB << 20, "the store is not capped"


async def fill_up(js) -> None:
    """Fill the store to the last few hundred bytes: what one block-sized write left free
    (up to a block) could still take a whole request's event."""
    for block in (BLOCK, 4096, 256):
        await fill(js, block)


async def room_for(js, blocks: int) -> None:
    """Delete the newest `blocks` filler messages: about that many blocks of room."""
    last = (await js.stream_info(FILLER)).state.last_seq
    for seq in range(last, last - blocks, -1):
        await js.delete_msg(FILLER, seq)


async def settled(api: httpx.AsyncClient, dataset_id: str) -> dict:
    async def done() -> dict | None:
        response = await api.get(f"/api/datasets/{dataset_id}")
        view = response.json() if response.status_code == 200 else None
        return view if view and view["status"] not in ("requested", "building") else None

    return await until(done, f"dataset {dataset_id} built or failed", timeout=90)


def manual() -> list[dict]:
    return [
        {
            "question": f"What does the keeper note in log {i} of the harbour?",
            "answer": f"Log {i} holds the lamp's hours, the tide at dusk and ship {i * 7}.",
        }
        for i in range(EXAMPLES)
    ]


async def datasets_bucket_messages(js) -> int:
    try:
        return (await js.stream_info("OBJ_datasets")).state.messages
    except NotFoundError:
        return 0


async def test_store_full_while_writing_a_dataset_fails_it_clearly_and_builds_once_freed(
    stack,
) -> None:
    stack, api, nc = stack
    js = nc.jetstream()
    profile = {
        "name": f"Store {uuid.uuid4().hex[:8]}",
        "description": "A harbour keeper who answers about lamps, tides and logs. " * 18,
        "goals": [f"Explain the harbour's routine number {i} plainly" for i in range(10)],
    }
    created = await api.post("/api/experts", json=profile)
    assert created.status_code == 201, created.text
    expert = created.json()["id"]
    body = {"sources": {"manual": manual()}, "max_examples": EXAMPLES}

    await js.add_stream(name=FILLER, subjects=["filler.>"], storage=js_api.StorageType.FILE)
    assert await fill(js) > 0
    await room_for(js, ROOM_BLOCKS)
    kept_before = await datasets_bucket_messages(js)

    accepted = await api.post(f"/api/experts/{expert}/datasets", json=body)
    assert accepted.status_code == 202, accepted.text
    failed = await settled(api, accepted.json()["dataset_id"])
    assert failed["status"] == "failed", failed
    assert "storage is full" in failed["reason"] and "free some space" in failed["reason"]
    # No chunk of the refused examples is left, and no version points at them.
    assert await datasets_bucket_messages(js) == kept_before
    listed = (await api.get(f"/api/experts/{expert}/datasets")).json()
    assert [d["status"] for d in listed] == ["failed"], listed

    # While the store is full, a build is refused at once, in a sentence.
    await fill_up(js)
    refused = await api.post(f"/api/experts/{expert}/datasets", json=body)
    assert refused.status_code == 503, refused.text
    assert "full" in refused.json()["detail"] and "free some space" in refused.json()["detail"]

    await js.purge_stream(FILLER)  # space freed: nothing is restarted
    again = await api.post(f"/api/experts/{expert}/datasets", json=body)
    assert again.status_code == 202, again.text
    ready = await settled(api, again.json()["dataset_id"])
    assert ready["status"] == "ready", ready
    assert ready["train_examples"] + ready["val_examples"] == EXAMPLES, ready
    # The refused build did meet a full store: its examples are more than the room it had.
    content = ready["content"]
    assert content["size"] > ROOM_BLOCKS * BLOCK, content
    stored = await sealed_objects(nc).get(msgspec.convert(content, ObjectRef), tenant="local")
    assert len(stored) == content["size"]  # whole, and its sha256 checked on the way
    listed = (await api.get(f"/api/experts/{expert}/datasets")).json()
    assert sorted(d["status"] for d in listed) == ["failed", "ready"], listed
    assert "DISABLED" not in stack.nats.log_path.read_text()  # JetStream stayed on
