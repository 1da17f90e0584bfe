"""An object deleted while it is being read is missing, not waited for forever.

nats-py's `ObjectStore.get` reads the object's info, then waits for its chunks with no
limit. When the object is deleted in between (a document deleted while its index is
written), the chunks never come: the knowledge projector waited for them inside its
transaction, holding its checkpoint lock, so the index stopped for good and every rebuild
of it hung (found by tests/integration/test_api_fuzz.py).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from runtime.object_keys import RemoteObjectKeys
from runtime.objects import ObjectMissing, Objects
from tests.support.objects import sealed_objects

pytestmark = pytest.mark.integration

BUCKET = "deleted_while_read"


async def stored(nc, piece: bytes):
    """`piece` repeated into an object of many chunks, put through the services' `Objects`;
    with the JetStream context (to patch) and the `Objects` that reads it back."""
    js = nc.jetstream()
    objects = Objects(js, RemoteObjectKeys(nc))
    ref = await objects.put(BUCKET, f"local/{uuid.uuid4().hex}", piece * 30_000, tenant="local")
    return js, objects, ref


def deleted_before_its_chunks(monkeypatch, nc, js, ref) -> None:
    """Delete the object once a read has taken its info and subscribes for its chunks."""
    subscribe = js.subscribe

    async def deleted_first(*args, **kwargs):
        await sealed_objects(nc).delete(BUCKET, ref.name)
        return await subscribe(*args, **kwargs)

    monkeypatch.setattr(js, "subscribe", deleted_first)


async def test_an_object_deleted_between_its_info_and_its_chunks_is_missing(
    nc, services, monkeypatch
):
    js, objects, ref = await stored(nc, b"soon gone ")
    deleted_before_its_chunks(monkeypatch, nc, js, ref)
    with pytest.raises(ObjectMissing):
        await asyncio.wait_for(objects.get(ref, tenant="local"), timeout=20)


async def test_an_object_replaced_while_it_is_read_is_read_again(nc, services, monkeypatch):
    js, objects, ref = await stored(nc, b"first version ")
    subscribe = js.subscribe
    replaced = False

    async def replaced_first(*args, **kwargs):
        nonlocal replaced
        if not replaced:
            replaced = True
            await sealed_objects(nc).put(
                BUCKET, ref.name, b"first version " * 30_000, tenant="local"
            )
        return await subscribe(*args, **kwargs)

    monkeypatch.setattr(js, "subscribe", replaced_first)
    assert (
        await asyncio.wait_for(objects.get(ref, tenant="local"), timeout=20)
        == b"first version " * 30_000
    )


async def test_a_download_of_an_object_deleted_mid_read_is_missing(nc, services, monkeypatch):
    """The gateway streams originals with `read_into`: the same check, into a file."""
    import tempfile

    js, objects, ref = await stored(nc, b"an original ")
    deleted_before_its_chunks(monkeypatch, nc, js, ref)
    with tempfile.TemporaryFile() as sink, pytest.raises(ObjectMissing):
        await asyncio.wait_for(
            objects.read_into(BUCKET, ref.name, sink, tenant="local"), timeout=20
        )


@pytest.mark.parametrize("after", ["its info", "its first chunk"])
async def test_an_object_replaced_while_its_key_is_opened_is_read_again(
    nc, services, monkeypatch, after
):
    """A read takes the object's info, then opens its key from its first chunk, then streams
    it: an object replaced after either step is read again, whole and new (its old chunks
    are gone, or arrive under another key)."""
    import io

    js = nc.jetstream()
    objects = Objects(js, RemoteObjectKeys(nc))
    name = f"local/{uuid.uuid4().hex}"
    await objects.put(BUCKET, name, b"first version " * 30_000, tenant="local")
    get_msg = js.get_msg
    replaced = False

    async def replaced_after(*args, **kwargs):
        nonlocal replaced
        got = await get_msg(*args, **kwargs)
        step = "its first chunk" if kwargs.get("direct") else "its info"
        if step == after and not replaced:
            replaced = True
            second = b"second version " * 30_000
            await sealed_objects(nc).put(BUCKET, name, second, tenant="local")
        return got

    monkeypatch.setattr(js, "get_msg", replaced_after)
    sink = io.BytesIO()
    await asyncio.wait_for(objects.read_into(BUCKET, name, sink, tenant="local"), timeout=20)
    assert replaced and sink.getvalue() == b"second version " * 30_000
