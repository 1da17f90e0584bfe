"""Publishing a trained adapter: its files into the `adapters` bucket under
`<tenant>/<adapter_id>/`, then one `AdapterTrained` naming the sha256 of each. A run
cancelled while the files were being stored keeps nothing: its files are deleted again."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from contracts.trainer import ADAPTER_FILES, BUCKET, RECORD_FILES, AdapterFile, AdapterTrained
from runtime.cancellable import Cancelled
from services.trainer.running import RunContext, RunFailure


def adapter_id_of(run_id: str) -> str:
    return hashlib.sha256(f"adapter:{run_id}".encode()).hexdigest()[:16]


async def publish_adapter(ctx: RunContext, output: Path, metrics, *, backend: str) -> None:
    ev, objects = ctx.ev, ctx.host.objects
    adapter_id = adapter_id_of(ctx.run_id)
    names = [n for n in ADAPTER_FILES + RECORD_FILES if (output / n).is_file()]
    missing = [n for n in ADAPTER_FILES if n not in names]
    if missing:
        raise RunFailure(f"The training process wrote no {', '.join(missing)}.")
    files, stored = [], []
    try:
        for name in names:
            body = await asyncio.to_thread((output / name).read_bytes)
            ref = await objects.put(
                BUCKET, f"{ctx.tenant}/{adapter_id}/{name}", body, tenant=ctx.tenant
            )
            stored.append(ref.name)
            files.append(AdapterFile(name=name, sha256=ref.sha256, size=ref.size))
        trained = AdapterTrained(
            run_id=ctx.run_id,
            adapter_id=adapter_id,
            expert_id=ev.expert_id,
            dataset_id=ev.dataset_id,
            base_model=ev.base_model,
            backend=backend,
            files=files,
            metrics=metrics,
            config=ev.config,
            train_examples=ev.estimate.train_examples,
        )
        if not await ctx.append(trained, "end"):
            raise Cancelled
    except BaseException:
        for name in stored:
            await objects.delete(BUCKET, name)
        raise
