"""Objects are sealed for their owner (issue 21) on the real stack: a person's uploaded
original is ciphertext in NATS's file store, while the API downloads it intact and search
finds its passages; another person's key does not open it, and no key is made for a name
outside the asker's own; once the owner's data key is destroyed it opens no more, wherever
its bytes were left. An object stored before sealing still reads as it was."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from pathlib import Path

import httpx
import pytest

from contracts.base import DomainError, ErrorCode, NewObjectKey, ObjectRef
from contracts.ingest import DOCUMENTS_BUCKET
from runtime.objects import ObjectCorrupt, ObjectForgotten, Objects
from runtime.rpc import ask
from runtime.sealed_objects import MAGIC
from tests.support.accounts import person
from tests.support.api import new_expert, settled, upload
from tests.support.objects import sealed_objects

pytestmark = pytest.mark.integration


def nats_files_holding(home: Path, needle: bytes) -> list[str]:
    """The files of NATS's store (every stream, objects and events) whose bytes hold `needle`."""
    found = []
    for path in sorted((home / "nats").rglob("*")):
        try:
            if path.is_file() and needle in path.read_bytes():
                found.append(str(path.relative_to(home)))
        except FileNotFoundError:
            continue  # compacted away while walked
    return found


async def until_on_disk(home: Path, needle: bytes, timeout: float = 30.0) -> list[str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := await asyncio.to_thread(nats_files_holding, home, needle)):
        assert asyncio.get_running_loop().time() < deadline, "NATS never wrote it to disk"
        await asyncio.sleep(0.2)
    return found


async def test_an_original_is_ciphertext_in_the_store_and_whole_through_the_api(stack, nc):
    home, alice = stack.settings.home, await person(nc)
    secret = f"the vermilion keeper {uuid.uuid4().hex[:12]} polishes the brass lantern"
    body = (
        "# Lighthouse notes\n\n"
        f"On the north cape {secret} every night before the storm.\n\n"
        "The tower has one hundred and twelve steps and a lens from Varnholm.\n"
    ).encode()
    async with httpx.AsyncClient(base_url=stack.url, headers=alice.headers, timeout=30) as api:
        expert = (await new_expert(api))["id"]
        uploaded = await upload(api, expert, ("notes.md", body))
        assert uploaded.status_code == 202, uploaded.text
        document = uploaded.json()["documents"][0]["id"]
        assert (await settled(api, document))["status"] == "ready"

        original = await api.get(f"/api/documents/{document}/file")
        assert original.status_code == 200 and original.content == body
        found = await api.get(f"/api/experts/{expert}/search", params={"q": "vermilion keeper"})
        assert any(secret in r["text"] for r in found.json()["results"]), found.text

    # the object as NATS holds it: sealed, the text nowhere in its bytes
    name = f"{alice.tenant}/{expert}/{hashlib.sha256(body).hexdigest()}"
    store = await nc.jetstream().object_store(DOCUMENTS_BUCKET)
    stored = (await store.get(name)).data
    assert stored.startswith(MAGIC) and secret.encode() not in stored
    # and on disk: a plaintext object written after it is found there, so the sealed one
    # was written too, and the document's text is in no file of NATS's store
    control = f"an unsealed control {uuid.uuid4().hex}".encode()
    await Objects(nc.jetstream(), None).put(
        DOCUMENTS_BUCKET,
        f"{alice.tenant}/control-{uuid.uuid4().hex[:8]}",
        control,
        tenant=alice.tenant,
    )
    assert await until_on_disk(home, control)
    assert await asyncio.to_thread(nats_files_holding, home, secret.encode()) == []

    sha = hashlib.sha256(body).hexdigest()
    ref = ObjectRef(bucket=DOCUMENTS_BUCKET, name=name, sha256=sha, size=len(body))
    with pytest.raises(ObjectCorrupt):  # another person's key does not open it
        await sealed_objects(nc).get(ref, tenant=stack.owner.tenant)

    # Once a tenant's key is destroyed, its objects no longer open (a tenant with no account,
    # forgotten behind the accounts service's back: alice's account view stays whole).
    gone = "t" + uuid.uuid4().hex[:12]
    ref = await stack.hosts["ingest"].objects.put(
        DOCUMENTS_BUCKET, f"{gone}/e/x", body, tenant=gone
    )
    await stack.hosts["ingest"].keyring.destroy(gone)
    for objects in (stack.hosts["ingest"].objects, sealed_objects(nc)):  # a service, the gateway
        with pytest.raises(ObjectForgotten):
            await objects.get(ref, tenant=gone)


async def test_no_key_is_made_for_a_name_outside_the_askers_own(nc, services):
    someone = await person(nc)
    query = NewObjectKey(tenant="local", bucket=DOCUMENTS_BUCKET, name=f"{someone.tenant}/e/x")
    with pytest.raises(DomainError) as refused:
        await ask(nc, query, context="ingest")
    assert refused.value.code == ErrorCode.INVALID
    with pytest.raises(ValueError):
        await sealed_objects(nc).put(
            DOCUMENTS_BUCKET, f"{someone.tenant}/e/x", b"x", tenant="local"
        )


async def test_an_object_stored_before_sealing_still_reads(nc, services):
    data = b"stored by an earlier version, in plain text " * 5000
    name = f"local/legacy-{uuid.uuid4().hex}"
    ref = await Objects(nc.jetstream(), None).put(DOCUMENTS_BUCKET, name, data, tenant="local")
    store = await nc.jetstream().object_store(DOCUMENTS_BUCKET)
    assert (await store.get(name)).data == data  # really unsealed
    assert await sealed_objects(nc).get(ref, tenant="local") == data


async def test_a_process_without_keys_does_not_pass_a_sealed_object_off_as_plaintext(nc, services):
    name = f"local/sealed-{uuid.uuid4().hex}"
    ref = await sealed_objects(nc).put(DOCUMENTS_BUCKET, name, b"sealed notes", tenant="local")
    with pytest.raises(ObjectCorrupt):
        await Objects(nc.jetstream(), None).get(ref, tenant="local")
