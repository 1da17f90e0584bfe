"""Versions that cannot share: through the real gateway and registry (embedded NATS and
Postgres, the session's tiny Llama, random LoRAs made here).

- A version trained on another base model than the expert's is refused on activation and on
  rollback (422 `wrong_base_model`, naming both models), and the active version stays; the
  expert's base model is its profile's when it names one, so changing it changes what fits.
  An automatic promotion goes through the same activation: a candidate that won its benchmark
  is held back, the registry's reason in the alert.
- One archive imported into several experts (an export whose manifest carries an id) gets a
  new id each time, never the manifest's; deleting one copy leaves every other whole: its
  files, its activation, its export download.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import tarfile
import uuid

import httpx
import pytest

from contracts.benchmark import BenchSummary, GetSummary
from contracts.registry import STREAM as REGISTRY
from runtime.rpc import request
from services.benchmark.commands import BenchmarkCommands
from services.benchmark.examiner import Examiner
from tests.support.adapters import import_archive, lora_folder, tar_gz
from tests.support.api import new_expert
from tests.support.benchmarks import add_questions, finished, questions_answered_by, start
from tests.support.flows import create_expert
from tests.support.versions import append_trained, listed, trained

pytestmark = pytest.mark.integration

FOREIGN = "meta-llama/Llama-3.1-8B"


async def imported(api: httpx.AsyncClient, expert_id: str, archive: bytes) -> dict:
    response = await import_archive(api, expert_id, archive)
    assert response.status_code == 201, response.text
    return response.json()


async def active_of(api: httpx.AsyncClient, expert_id: str) -> str | None:
    response = await api.get("/api/lora/active", params={"expert_id": expert_id})
    assert response.status_code == 200, response.text
    return response.json()["adapter_id"]


async def until_listed(api: httpx.AsyncClient, adapter_id: str, timeout: float = 60.0) -> dict:
    """The version once the registry registered it (a trained one arrives by reaction)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (response := await api.get(f"/api/lora/{adapter_id}")).status_code != 200:
        assert response.status_code == 404, response.text
        assert asyncio.get_running_loop().time() < deadline, f"{adapter_id} was never registered"
        await asyncio.sleep(0.1)
    return response.json()


async def until(check, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "it never happened"
        await asyncio.sleep(0.05)


async def summary(nc, expert_id: str):
    query = GetSummary(expert_id=expert_id)
    return await request(nc, "qry.benchmark.summary", query, BenchSummary)


def with_manifest_id(archive: bytes, adapter_id: str) -> bytes:
    """An export with its manifest saying `adapter_id` (the files and their hashes as they are)."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as source,
        tarfile.open(fileobj=out, mode="w:gz") as sink,
    ):
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "manifest.json":
                data = json.dumps({**json.loads(data), "id": adapter_id}).encode()
                member.size = len(data)
            sink.addfile(member, io.BytesIO(data))
    return out.getvalue()


def files_of(stack, adapter_id: str) -> dict[str, str]:
    """The sha256 of each file in the version's plain folder."""
    folder = stack.settings.home / "lora-adapters" / adapter_id
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.iterdir()
        # the manifest is written again after each change (a temporary file, then renamed)
        if p.is_file() and not p.name.startswith(".") and p.name != "manifest.json"
    }


async def test_a_version_for_another_base_model_is_refused_and_the_active_one_stays(
    api, stack, nc, servers, tmp_path
):
    expert = (await new_expert(api))["id"]
    fits = await imported(
        api, expert, tar_gz(lora_folder(servers.base_model, tmp_path / "a", seed=31))
    )
    assert (await api.post(f"/api/lora/{fits['id']}/activate")).status_code == 200
    folder = lora_folder(servers.base_model, tmp_path / "b", seed=32)
    ev = await trained(nc, expert, folder, base_model=FOREIGN)
    await append_trained(stack.hosts["trainer"], ev)
    foreign = await until_listed(api, ev.adapter_id)
    assert foreign["valid"] is True and foreign["base_model"] == FOREIGN

    refused = await api.post(f"/api/lora/{ev.adapter_id}/activate")
    assert refused.status_code == 422, refused.text
    error = refused.json()
    assert error["error"] == "wrong_base_model"
    assert f"trained on {FOREIGN}" in error["detail"]
    assert str(servers.base_model) in error["detail"]  # the expert's, by name
    assert await active_of(api, expert) == fits["id"]  # unchanged
    back = await api.post(
        "/api/lora/rollback", json={"expert_id": expert, "to_adapter_id": ev.adapter_id}
    )
    assert back.status_code == 422 and back.json()["error"] == "wrong_base_model", back.text
    assert await active_of(api, expert) == fits["id"]
    audit = await api.get("/api/lora/audit", params={"expert_id": expert})
    refusals = [e for e in audit.json() if e["outcome"] == "refused"]
    assert {e["action"] for e in refusals} == {"activate", "rollback"}
    assert all(e["adapter_id"] == ev.adapter_id and FOREIGN in e["reason"] for e in refusals)

    # The expert's base model is its profile's once it names one: now the other one fits.
    changed = await api.patch(f"/api/experts/{expert}", json={"base_model": FOREIGN})
    assert changed.status_code == 200, changed.text
    now = await api.post(f"/api/lora/{ev.adapter_id}/activate")
    assert now.status_code == 200, now.text
    assert await active_of(api, expert) == ev.adapter_id
    old = await api.post(f"/api/lora/{fits['id']}/activate")
    assert old.status_code == 422 and f"base model is {FOREIGN}" in old.json()["detail"]
    assert await active_of(api, expert) == ev.adapter_id


async def test_an_automatic_promotion_of_a_version_for_another_base_model_is_held_back(
    nc, stack, servers, tmp_path
):
    expert = await create_expert(nc)
    ev = await trained(nc, expert, lora_folder(servers.base_model, tmp_path / "c", seed=34),
                       base_model=FOREIGN)  # fmt: skip
    await append_trained(stack.hosts["trainer"], ev)
    deadline = asyncio.get_running_loop().time() + 60
    while not (await listed(nc, expert)).adapters:
        assert asyncio.get_running_loop().time() < deadline, "the version was never registered"
        await asyncio.sleep(0.1)
    # Questions it answers right by construction: it would win against the base model.
    await add_questions(nc, expert, await questions_answered_by(nc, expert, ev.adapter_id))
    host = stack.hosts["benchmark"]
    base = await finished(nc, await start(nc, expert, suite="custom", adapter_id="base"))
    run_id, _ = await BenchmarkCommands(host, Examiner(host)).queue(
        "local", expert, "custom", "quick", ev.adapter_id, "after_training", seed="foreign",
        candidate=True,
    )  # fmt: skip
    run = await finished(nc, run_id)
    assert run.composite_score > base.composite_score  # it won, and still may not answer

    deadline = asyncio.get_running_loop().time() + 60
    decisions = ("promoted", "held_back")
    while not (said := [a for a in (await summary(nc, expert)).alerts if a.kind in decisions]):
        assert asyncio.get_running_loop().time() < deadline, "no promotion was decided"
        await asyncio.sleep(0.2)
    assert [(a.kind, a.adapter_id) for a in said] == [("held_back", ev.adapter_id)]
    assert f"trained on {FOREIGN}" in said[0].sentence
    view = await listed(
        nc, expert, after_seq=(await nc.jetstream().stream_info(REGISTRY)).state.last_seq
    )
    assert view.active_adapter_id is None  # the base model answers still


async def test_one_archive_imported_into_two_experts_gets_two_ids_and_deleting_one_leaves_the_other(
    api, stack, servers, tmp_path
):
    owner = (await new_expert(api))["id"]
    original = await imported(
        api, owner, tar_gz(lora_folder(servers.base_model, tmp_path / "l", seed=33))
    )
    export = await api.get(f"/api/lora/{original['id']}/export")
    assert export.status_code == 200, export.text
    named = f"shared-{uuid.uuid4().hex[:8]}"  # a manifest id no version has yet
    archive = with_manifest_id(export.content, named)

    one, two = (await new_expert(api))["id"], (await new_expert(api))["id"]
    first, second = await asyncio.gather(
        import_archive(api, one, archive), import_archive(api, two, archive)
    )
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    a, b = first.json()["id"], second.json()["id"]
    assert len({a, b, named, original["id"]}) == 4  # an id of its own each, never the manifest's
    home = await imported(api, (await new_expert(api))["id"], export.content)
    assert home["id"] != original["id"]

    assert (await api.post(f"/api/lora/{b}/activate")).status_code == 200
    kept = files_of(stack, b)
    assert kept and kept == files_of(stack, a)  # equal bytes, in folders of their own
    gone = await api.delete(f"/api/lora/{a}")
    assert gone.status_code == 204, gone.text
    await until(lambda: not (stack.settings.home / "lora-adapters" / a).exists())

    assert files_of(stack, b) == kept
    verify = await api.post(f"/api/lora/{b}/verify")
    assert verify.status_code == 200 and verify.json()["valid"] is True, verify.text
    assert (await api.post("/api/lora/base/activate", params={"expert_id": two})).status_code == 200
    again = await api.post(f"/api/lora/{b}/activate")
    assert again.status_code == 200, again.text
    assert await active_of(api, two) == b
    download = await api.get(f"/api/lora/{b}/export")
    assert download.status_code == 200, download.text
    with tarfile.open(fileobj=io.BytesIO(download.content), mode="r:gz") as tar:
        packed = {
            m.name: hashlib.sha256(tar.extractfile(m).read()).hexdigest()
            for m in tar.getmembers()
            if m.name != "manifest.json"
        }
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert packed == kept and manifest["id"] == b
    assert (await api.get(f"/api/lora/{original['id']}/export")).status_code == 200


async def test_one_archive_imported_twice_at_once_into_one_expert_is_one_version(
    api, stack, servers, tmp_path
):
    expert = (await new_expert(api))["id"]
    archive = tar_gz(lora_folder(servers.base_model, tmp_path / "twice", seed=35))
    root = stack.settings.home / "lora-adapters"
    before = {p.name for p in root.iterdir()}
    first, second = await asyncio.gather(
        import_archive(api, expert, archive), import_archive(api, expert, archive)
    )
    assert sorted([first.status_code, second.status_code]) == [200, 201], (first.text, second.text)
    assert first.json()["id"] == second.json()["id"]
    versions = (await api.get("/api/lora", params={"expert_id": expert})).json()
    assert [v["id"] for v in versions] == [first.json()["id"]]
    assert {p.name for p in root.iterdir()} - before == {first.json()["id"]}  # nothing left over
