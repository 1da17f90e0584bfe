"""Driving fine-tuning runs over NATS in tests: a dataset to train on, a run started and
followed to its end, its adapter's files fetched from the bucket."""

from __future__ import annotations

import asyncio
from pathlib import Path

from contracts.base import Accepted
from contracts.dataset import BuildDataset, BuildSpec, ManualExample, Sources
from contracts.trainer import (
    BUCKET,
    CancelFinetune,
    GetRun,
    ListRuns,
    RunAccepted,
    RunList,
    RunView,
    StartFinetune,
    TrainConfig,
)
from runtime.rpc import DomainError, request
from tests.support.flows import built_examples
from tests.support.objects import sealed_objects

# A few steps on the session's tiny model: seconds, not minutes.
TINY = TrainConfig(
    lora_rank=4,
    lora_alpha=8,
    batch_size=2,
    gradient_accumulation_steps=1,
    epochs=1,
    max_steps=4,
    eval_steps=2,
    max_seq_length=512,
    learning_rate=1e-3,
    backend="peft",
)
FACTS = [
    ("What colour is the harbour light?", "The harbour light is green."),
    ("Who keeps the lighthouse?", "The second keeper keeps it."),
    ("When is the lamp trimmed?", "The lamp is trimmed at dusk."),
    ("What does the fog signal use?", "It uses compressed air."),
    ("Where do the sheep go in spring?", "They go up to the hills."),
    ("What do bees carry?", "Bees carry pollen."),
    ("What conducts electricity?", "Copper wire conducts it."),
    ("What does the keeper write?", "The keeper writes the weather."),
    ("How many keepers are there?", "There are two keepers."),
    ("What colour is the door?", "The door is red."),
]


async def build(nc, expert_id: str, count: int = len(FACTS), tenant: str = "local") -> Accepted:
    """A dataset of `count` hand-written examples asked for (not yet built)."""
    manual = [ManualExample(question=q, answer=a) for q, a in FACTS[:count]]
    spec = BuildSpec(sources=Sources(manual=manual))
    cmd = BuildDataset(tenant=tenant, expert_id=expert_id, spec=spec)
    return await request(nc, "cmd.dataset.build", cmd, Accepted)


async def dataset(nc, expert_id: str, count: int = len(FACTS), tenant: str = "local") -> str:
    """A ready dataset of `count` hand-written examples; its id."""
    built = await build(nc, expert_id, count, tenant)
    await built_examples(nc, built, tenant)
    return built.id


async def start(nc, expert_id: str, dataset_id: str | None, config=TINY, **fields) -> RunAccepted:
    cmd = StartFinetune(expert_id=expert_id, dataset_id=dataset_id, config=config, **fields)
    return await request(nc, "cmd.trainer.start", cmd, RunAccepted)


async def run_view(nc, run_id: str, after_seq: int = 0, tenant: str = "local") -> RunView:
    query = GetRun(tenant=tenant, run_id=run_id, after_seq=after_seq)
    return await request(nc, "qry.trainer.run", query, RunView)


async def projected_run(nc, run_id: str, deadline: float, tenant: str = "local") -> RunView:
    """The run's view, once the trainer's projection shows it: a run queued a moment ago
    (or by a reactor, straight to the log) may not be projected yet, and a trainer whose
    machine is busy training may not answer one query in time (unavailable): asked again
    until `deadline`."""
    while True:
        try:
            return await run_view(nc, run_id, tenant=tenant)
        except DomainError as err:
            assert err.code in ("not_found", "unavailable"), err
            assert asyncio.get_running_loop().time() < deadline, err
            await asyncio.sleep(0.1)


async def finished(nc, run_id: str, timeout: float = 120.0, tenant: str = "local") -> RunView:
    """The run once it has ended."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        view = await projected_run(nc, run_id, deadline, tenant)
        if view.status in ("succeeded", "failed", "cancelled"):
            return view
        assert asyncio.get_running_loop().time() < deadline, f"run {run_id} is still {view.status}"
        await asyncio.sleep(0.2)


async def reached(nc, run_id: str, predicate, timeout: float = 120.0) -> RunView:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        view = await projected_run(nc, run_id, deadline)
        if predicate(view):
            return view
        assert view.status in ("queued", "running"), f"run {run_id} {view.status}: {view.error}"
        assert asyncio.get_running_loop().time() < deadline, f"run {run_id}: {view}"
        await asyncio.sleep(0.1)


async def fetch_adapter(nc, view: RunView, folder: Path) -> Path:
    """The adapter's files, from the bucket into `folder` (their sha256 checked on read)."""
    from contracts.base import ObjectRef

    objects = sealed_objects(nc)
    folder.mkdir(parents=True, exist_ok=True)
    for f in view.files:
        name = f"local/{view.adapter_id}/{f.name}"
        ref = ObjectRef(bucket=BUCKET, name=name, sha256=f.sha256, size=f.size)
        (folder / f.name).write_bytes(await objects.get(ref, tenant="local"))
    return folder


async def base_and_tuned(
    nc, view: RunView, folder: Path, model: str, home: Path, question: str, max_tokens: int
) -> tuple[str, str]:
    """The greedy answers to `question` of the base `model` (loaded with `home`), then of the
    run's adapter (fetched into `folder`) on it."""
    from services.expert.llm import Adapter, LocalBackend, LocalModel, Params, Piece

    adapter = Adapter(view.adapter_id, await fetch_adapter(nc, view, folder))
    backend = LocalBackend(await asyncio.to_thread(LocalModel.load, model, home))
    messages = [{"role": "user", "content": question}]

    async def answer(with_adapter: Adapter | None = None) -> str:
        params = Params(max_tokens=max_tokens, temperature=0)
        items = [i async for i in backend.stream(messages, params, adapter=with_adapter)]
        return "".join(i.text for i in items if isinstance(i, Piece))

    try:
        return await answer(), await answer(adapter)
    finally:
        await backend.close()


async def end_all_runs(nc, tenants=("local",), timeout: float = 180.0) -> None:
    """Cancel every run still queued or running, and wait until each has ended (so a view can
    be compared with its rebuild while nothing moves)."""
    deadline = asyncio.get_running_loop().time() + timeout
    for tenant in tenants:
        while True:
            query = ListRuns(tenant=tenant, limit=200)
            runs = (await request(nc, "qry.trainer.runs", query, RunList)).runs
            active = [r for r in runs if r.status in ("queued", "running")]
            if not active:
                break
            for run in active:
                try:
                    cancel = CancelFinetune(tenant=tenant, run_id=run.id)
                    await request(nc, "cmd.trainer.cancel", cancel, Accepted)
                except DomainError:
                    pass  # it ended meanwhile
            assert asyncio.get_running_loop().time() < deadline, [r.status for r in active]
            await asyncio.sleep(0.5)
