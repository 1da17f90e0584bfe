"""Driving the registry over NATS in tests: import a tiny adapter as a version, activate,
roll back, list, and ask the expert with greedy decoding so its answer shows which adapter
answered."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from contracts.answers import AnswerReply, Ask
from contracts.base import Accepted
from contracts.registry import (
    IMPORTS,
    ActivateAdapter,
    AdapterImported,
    AdapterList,
    ImportAdapter,
    ListAdapters,
    RollbackAdapter,
)
from contracts.trainer import BUCKET, AdapterFile, AdapterTrained, RunMetrics
from runtime.rpc import request
from tests.support.adapters import lora_folder, tar_gz
from tests.support.objects import sealed_objects


async def import_folder(nc, expert_id: str, folder: Path, tenant: str = "local") -> str:
    """Import a PEFT folder as a version of `expert_id`; its adapter id."""
    data = tar_gz(folder)
    objects = sealed_objects(nc)
    name = f"{tenant}/test-{folder.name}-{len(data)}"
    ref = await objects.put(IMPORTS, name, data, tenant=tenant)
    cmd = ImportAdapter(tenant=tenant, expert_id=expert_id, archive=ref, filename="a.tar.gz")
    imported = await request(nc, "cmd.registry.import", cmd, AdapterImported, timeout=60.0)
    return imported.adapter_id


async def new_versions(nc, base_model: Path, tmp: Path, expert_id: str, seeds=(1, 2)):
    return [
        await import_folder(nc, expert_id, lora_folder(base_model, tmp / f"lora-{s}", seed=s))
        for s in seeds
    ]


async def activate(nc, expert_id: str, adapter_id: str | None, **fields) -> Accepted:
    cmd = ActivateAdapter(expert_id=expert_id, adapter_id=adapter_id, **fields)
    return await request(nc, "cmd.registry.activate", cmd, Accepted)


async def rollback(nc, expert_id: str, to: str | None = None) -> Accepted:
    cmd = RollbackAdapter(expert_id=expert_id, to_adapter_id=to)
    return await request(nc, "cmd.registry.rollback", cmd, Accepted)


async def deployed(stack, accepted: Accepted) -> None:
    """The expert service follows the change (its view of deployments reached it)."""
    await stack.hosts["expert"].caught_up("REGISTRY", accepted.seq, timeout=10.0)


async def listed(nc, expert_id: str, after_seq: int = 0) -> AdapterList:
    query = ListAdapters(expert_id=expert_id, after_seq=after_seq)
    return await request(nc, "qry.registry.adapters", query, AdapterList)


async def greedy(nc, expert_id: str) -> AnswerReply:
    """The expert's answer to a fixed question, greedily: equal adapters, equal answers."""
    ask = Ask(expert_id=expert_id, question="What is the rule?", mode="closed", max_tokens=12,
              temperature=0.0)  # fmt: skip
    return await request(nc, "cmd.expert.ask", ask, AnswerReply, timeout=60.0)


async def trained(
    nc, expert_id: str, folder=None, *, tenant: str = "local", base_model: str | None = None
) -> AdapterTrained:
    """An `AdapterTrained` as a run would append it: `folder`'s files stored in the bucket
    first (or, without a folder, files that were never stored), trained on `base_model`
    (by default the one the folder's adapter_config.json names)."""
    adapter_id = uuid.uuid4().hex[:16]
    objects, files = sealed_objects(nc), []
    if folder is None:
        files = [AdapterFile(name="adapter_model.safetensors", sha256="0" * 64, size=10)]
    else:
        config = json.loads((folder / "adapter_config.json").read_text())
        base_model = base_model or config["base_model_name_or_path"]
        for path in sorted(folder.iterdir()):
            name = f"{tenant}/{adapter_id}/{path.name}"
            ref = await objects.put(BUCKET, name, path.read_bytes(), tenant=tenant)
            files.append(AdapterFile(name=path.name, sha256=ref.sha256, size=ref.size))
    return AdapterTrained(
        run_id=uuid.uuid4().hex[:16], adapter_id=adapter_id, expert_id=expert_id,
        dataset_id="ds", base_model=base_model or "tiny", backend="peft", files=files,
        metrics=RunMetrics(train_loss=0.5, steps=4), train_examples=9,
    )  # fmt: skip


async def append_trained(host, ev: AdapterTrained) -> None:
    """On the log as the trainer would append it."""
    await host.store.append("trainer", "local", "run", ev.run_id, ev, expected_seq=None)
