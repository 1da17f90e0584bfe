"""Disk is reclaimed: each leak is provoked the way a crash or a lost race leaves it, and the
owning service's sweeper removes it — but only once older than the grace period (a sweep
with the configured grace leaves young orphans alone, so work in flight is never taken),
and never what a live dataset version, adapter version or run still refers to."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import pytest

from contracts.base import Accepted
from contracts.dataset import (
    BUCKET as DATASETS,
)
from contracts.dataset import (
    DatasetView,
    EditExample,
    ExamplePage,
    ExportDataset,
    ExportReady,
    GetDataset,
    ListExamples,
)
from contracts.registry import (
    EXPORTS,
    IMPORTS,
    AdapterExport,
    DeleteAdapter,
    ExportAdapter,
)
from contracts.trainer import BUCKET, CHECKPOINTS
from runtime.adapter_files import adapter_folder, incoming_folder
from runtime.rpc import request
from services.trainer.local.workdir import WorkDir
from tests.support import training
from tests.support.adapters import lora_folder
from tests.support.flows import create_expert
from tests.support.objects import sealed_objects
from tests.support.versions import import_folder

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def names(nc, bucket: str) -> set[str]:
    return {s.name for s in await sealed_objects(nc).list(bucket)}


async def view_of(nc, dataset_id: str, after_seq: int = 0) -> DatasetView:
    query = GetDataset(dataset_id=dataset_id, after_seq=after_seq)
    return await request(nc, "qry.dataset.get", query, DatasetView)


async def test_dataset_objects_no_version_refers_to_are_swept(nc, stack):
    host, objects = stack.hosts["dataset"], sealed_objects(nc)
    expert = await create_expert(nc)
    first = await training.dataset(nc, expert)
    examples = await request(nc, "qry.dataset.examples", ListExamples(dataset_id=first),
                             ExamplePage)  # fmt: skip
    edit = EditExample(dataset_id=first, example_id=examples.examples[0].id, answer="Edited.")
    edited = await request(nc, "cmd.dataset.edit_example", edit, Accepted)
    older, newer = await view_of(nc, first), await view_of(nc, edited.id, edited.seq)
    export = await request(nc, "qry.dataset.export", ExportDataset(dataset_id=first), ExportReady)
    live = {older.content.name, newer.content.name, export.object.name}
    # an edit refused after its copy was stored, and an export of that copy
    data = b'{"id": "orphan"}\n'
    orphan = f"local/{expert}/{hashlib.sha256(data).hexdigest()}.examples.jsonl"
    await objects.put(DATASETS, orphan, data, tenant="local")
    await objects.put(DATASETS, f"{orphan}.chat.train.jsonl", data, tenant="local")
    orphans = {orphan, f"{orphan}.chat.train.jsonl"}

    await host.sweeper.sweep()  # the configured grace: all of it is young
    assert orphans | live <= await names(nc, DATASETS)
    assert await host.sweeper.sweep(grace_s=0) >= len(orphans)
    left = await names(nc, DATASETS)
    assert not orphans & left
    assert live <= left  # both versions (the older one is history) and the live export
    assert len(await training.built_examples(nc, edited)) == len(examples.examples)


async def test_registry_files_of_no_live_version_are_swept(nc, stack, servers, tmp_path):
    host, objects, home = stack.hosts["registry"], sealed_objects(nc), stack.settings.home
    await training.end_all_runs(nc)  # no adapter of an earlier test is on its way in
    expert = await create_expert(nc)
    kept = await import_folder(nc, expert, lora_folder(servers.base_model, tmp_path / "a", seed=11))
    gone = await import_folder(nc, expert, lora_folder(servers.base_model, tmp_path / "b", seed=12))
    for adapter_id in (kept, gone):
        await request(nc, "qry.registry.export", ExportAdapter(adapter_id=adapter_id),
                      AdapterExport)  # fmt: skip
    await request(nc, "cmd.registry.delete", DeleteAdapter(adapter_id=gone), Accepted)
    stale_export = f"local/adapters/{gone}.tar.gz"
    deadline = asyncio.get_running_loop().time() + 30
    while stale_export in await names(nc, EXPORTS):  # a deleted version's export goes with it
        assert asyncio.get_running_loop().time() < deadline, "the export outlived its version"
        await asyncio.sleep(0.1)
    await objects.put(
        EXPORTS, stale_export, b"left by an earlier build", tenant="local"
    )  # and if it did not
    # an import that crashed half-way: its work folder, its files stored and moved into
    # place but never registered, and the upload it was reading
    crashed = uuid.uuid4().hex[:16]
    incoming = incoming_folder(home)
    (incoming / "adapter_model.safetensors").write_bytes(b"half")
    adapter_folder(home, crashed).mkdir(parents=True)
    (adapter_folder(home, crashed) / "adapter_model.safetensors").write_bytes(b"whole")
    await objects.put(
        BUCKET, f"local/{crashed}/adapter_model.safetensors", b"whole", tenant="local"
    )
    upload = f"local/{uuid.uuid4().hex}"
    await objects.put(IMPORTS, upload, b"an archive", tenant="local")

    async def orphans_left() -> list[str]:
        left = [str(p) for p in (incoming, adapter_folder(home, crashed)) if p.exists()]
        left += [n for n in await names(nc, BUCKET) if n.startswith(f"local/{crashed}/")]
        left += [n for n in (upload,) if n in await names(nc, IMPORTS)]
        left += [n for n in (stale_export,) if n in await names(nc, EXPORTS)]
        return left

    orphans = await orphans_left()
    assert len(orphans) == 5, orphans
    await host.sweeper.sweep()
    assert await orphans_left() == orphans  # young: in flight, as far as anyone can tell
    await host.sweeper.sweep(grace_s=0)
    assert await orphans_left() == []
    assert (adapter_folder(home, kept) / "adapter_config.json").is_file()
    assert any(n.startswith(f"local/{kept}/") for n in await names(nc, BUCKET))
    assert f"local/adapters/{kept}.tar.gz" in await names(nc, EXPORTS)
    assert (home / "lora-adapters" / "experts" / "local" / expert / "active.json").is_file()


async def test_trainer_work_folders_and_checkpoints_of_ended_runs_are_swept(nc, stack):
    host, objects, home = stack.hosts["trainer"], sealed_objects(nc), stack.settings.home
    expert = await create_expert(nc)
    run = (await training.start(nc, expert, await training.dataset(nc, expert))).run_id
    assert (await training.finished(nc, run)).status == "succeeded"
    # a run that ended while no worker followed it, and the archives a restarted training
    # process left behind
    work = WorkDir(home, "local", run)
    (work.checkpoints / "checkpoint-2").mkdir(parents=True)
    (work.checkpoints / "checkpoint-2" / "state.json").write_text("{}")
    leaked = {f"local/{run}/checkpoint-{step}.tar" for step in (2, 4)}
    for name in leaked:
        await objects.put(CHECKPOINTS, name, b"tar", tenant="local")

    async def left() -> list[str]:
        return [str(work.root)] * work.root.exists() + sorted(leaked & await names(nc, CHECKPOINTS))

    await host.sweeper.sweep()
    assert len(await left()) == 3
    await training.end_all_runs(nc)  # nothing of an earlier test is in flight
    await host.sweeper.sweep(grace_s=0)
    assert await left() == []
