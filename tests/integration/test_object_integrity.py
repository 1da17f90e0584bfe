"""Damaged objects on the real object store are `ObjectCorrupt`, which no retry can fix."""

from __future__ import annotations

import uuid

import pytest

from contracts.base import ObjectRef
from runtime.objects import ObjectCorrupt, ObjectMissing
from tests.support.objects import sealed_objects

pytestmark = pytest.mark.integration

BUCKET = "integrity_tests"


async def damage(nc, bucket: str, name: str) -> None:
    """Add bytes to the object's stored chunks, as a bad disk or a stray write would."""
    store = await nc.jetstream().object_store(bucket)
    info = await store.get_info(name)
    await nc.jetstream().publish(f"$O.{bucket}.C.{info.nuid}", b"bytes that do not belong")


async def test_an_object_whose_chunks_were_changed_is_corrupt(nc, services):
    objects = sealed_objects(nc)
    ref = await objects.put(
        BUCKET, f"local/{uuid.uuid4().hex}", b"the original bytes" * 1000, tenant="local"
    )
    assert await objects.get(ref, tenant="local") == b"the original bytes" * 1000
    await damage(nc, BUCKET, ref.name)
    with pytest.raises(ObjectCorrupt, match="damaged"):
        await objects.get(ref, tenant="local")


async def test_an_object_that_is_not_what_the_event_recorded_is_corrupt(nc, services):
    objects = sealed_objects(nc)
    ref = await objects.put(BUCKET, f"local/{uuid.uuid4().hex}", b"first version", tenant="local")
    await objects.put(BUCKET, ref.name, b"swapped for another file", tenant="local")
    with pytest.raises(ObjectCorrupt, match="sha256"):
        await objects.get(ref, tenant="local")


async def test_a_deleted_object_is_missing(nc, services):
    objects = sealed_objects(nc)
    ref = await objects.put(BUCKET, f"local/{uuid.uuid4().hex}", b"short-lived", tenant="local")
    assert await objects.delete(BUCKET, ref.name)
    with pytest.raises(ObjectMissing):
        await objects.get(ref, tenant="local")
    assert not await objects.delete(BUCKET, ref.name)


async def test_large_objects_are_hashed_and_checked_too(nc, services):
    objects = sealed_objects(nc)
    data = bytes(range(256)) * 20_000  # 5 MB: hashed off the event loop
    ref = await objects.put(BUCKET, f"local/{uuid.uuid4().hex}", data, tenant="local")
    assert isinstance(ref, ObjectRef) and await objects.get(ref, tenant="local") == data
