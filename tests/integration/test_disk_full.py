"""A full disk (ENOSPC) on the real stack, as processes: a small tmpfs, filled up, is mounted
where the stack writes (the gateway's upload spool, the registry's adapter folders).

The user gets a clear answer, nothing half-written is left or registered, and once the space
is freed the same work succeeds, once.
"""

from __future__ import annotations

import collections
import uuid

import httpx
import pytest

from contracts import registry as registry_contracts
from gateway.http.errors import DISK_FULL
from tests.support import flows, training
from tests.support.devstack import (
    can_mount,
    document_settled,
    full_disk,
    running_stack,
    stack_log,
    until,
)
from tests.support.log import install_store
from tests.support.servers import admin_connect
from tests.support.tiny_llm import build_tiny_llm

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not can_mount(), reason="a full disk is a tmpfs mount, which needs root"),
]


# Two tries of a failing reaction and it is decided as failed: a full disk that outlasts them
# must not count as tries. A reaction stopped by the full disk tries again each second (5 s in
# use), so the tries past that limit come within seconds.
env = {"SIMTUNE_MAX_DELIVERIES": "2", "SIMTUNE_OUTAGE_RETRY_S": "1"}


@pytest.fixture(scope="module")
async def disk(tmp_path_factory):
    model = build_tiny_llm(tmp_path_factory.mktemp("disk-llm"))
    async with (
        running_stack("simtune-disk-", {**env, "SIMTUNE_BASE_MODEL": str(model)}) as stack,
        httpx.AsyncClient(
            base_url=stack.base_url, timeout=30.0, headers=stack.owner.headers
        ) as api,
    ):
        nc = await admin_connect(stack.nats.url, stack.home, max_reconnect_attempts=-1)
        try:
            yield stack, api, nc
        finally:
            await nc.close()


async def new_expert(api: httpx.AsyncClient) -> str:
    response = await api.post("/api/experts", json={"name": f"Disk {uuid.uuid4().hex[:8]}"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


# Over the gateway's in-memory spool (1 MB), under the upload limit (2 MB), so it is spooled
# to disk; mostly blank, so it makes two chunks and no long ingest.
def big(title: str) -> tuple[str, tuple[str, bytes, str]]:
    text = f"{title}. The keeper trims the harbour lamp at dusk.\n" + " " * 1_500_000 + "\nEnd.\n"
    return ("file", (f"{title}.txt", text.encode(), "text/plain"))


async def test_disk_full_while_uploading_answers_clearly_and_keeps_nothing(disk) -> None:
    stack, api, _ = disk
    expert = await new_expert(api)
    # A first upload while there is room: the gateway settles on its temporary folder then
    # (Python picks it once, skipping one it cannot write to).
    first = await api.post(f"/api/experts/{expert}/documents", files=[big("first")])
    assert first.status_code == 202, first.text
    spool = stack.home / "tmp"
    with full_disk(spool) as free:
        refused = await api.post(f"/api/experts/{expert}/documents", files=[big("manual")])
        assert refused.status_code == 503, refused.text
        body = refused.json()
        assert body["error"] == "unavailable" and body["detail"].startswith(DISK_FULL), body
        assert [p.name for p in spool.iterdir()] == [".filler"]  # no part of it left behind
        listed = await api.get(f"/api/experts/{expert}/documents")
        assert listed.status_code == 200 and [d["filename"] for d in listed.json()] == ["first.txt"]

        free()
        accepted = await api.post(f"/api/experts/{expert}/documents", files=[big("manual")])
        assert accepted.status_code == 202, accepted.text
    for doc in [*first.json()["documents"], *accepted.json()["documents"]]:
        assert (await document_settled(api, doc["id"]))["status"] == "ready"
    assert len((await api.get(f"/api/experts/{expert}/documents")).json()) == 2


async def test_disk_full_while_saving_an_adapter_registers_it_once_space_is_freed(disk) -> None:
    stack, api, nc = disk
    store = install_store(
        nc, stack.home, stack.postgres.url, stack.child_env().get("SIMTUNE_SECRET_KEY")
    )
    expert = await new_expert(api)
    accepted = await training.build(nc, expert)
    assert (await until(flows.build_ended(nc, accepted), "the dataset built")).status == "ready"

    async def versions() -> collections.Counter:
        events, _ = await store.load(
            registry_contracts.CONTEXT, "local", registry_contracts.VERSIONS, expert
        )
        return collections.Counter(rec.type.split(".")[1] for rec in events)

    folder = stack.home / "lora-adapters"
    with full_disk(folder) as free:
        run = await training.start(nc, expert, accepted.id)
        ended = await training.finished(nc, run.run_id, timeout=300)
        assert ended.status == "succeeded", ended

        async def refused() -> bool:
            lines = stack_log(stack).splitlines()
            tries = [x for x in lines if "reaction.outage" in x and "registry.register" in x]
            return len(tries) > 2  # more than SIMTUNE_MAX_DELIVERIES

        await until(refused, "the registry meets the full disk, and waits")
        assert (await versions())["AdapterRegistered"] == 0
        assert [p.name for p in folder.iterdir()] == [".filler"]  # no half-written copy

        free()

        async def registered() -> collections.Counter | None:
            found = await versions()
            return found if found["AdapterRegistered"] else None

        assert (await until(registered, "the adapter registered"))["AdapterRegistered"] == 1
        files = {p.name for p in (folder / ended.adapter_id).iterdir()}
        assert {f.name for f in ended.files} <= files, files
        assert not [p for p in folder.iterdir() if p.name.startswith(".incoming-")]
    events, _ = await store.load(
        registry_contracts.CONTEXT, "local", registry_contracts.VERSIONS, expert
    )
    [version] = [r.event for r in events if r.type.endswith("AdapterRegistered")]
    assert version.adapter_id == ended.adapter_id and version.valid, version
