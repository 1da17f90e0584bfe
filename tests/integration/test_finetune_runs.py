"""Fine-tuning runs through the trainer service: real training of the session's tiny model in
a child process, real NATS and Postgres. A run makes an adapter that changes the expert's
answers; too little data is refused; identical inputs give identical adapters; a cancel
stops a run and keeps nothing; a killed training process and a restarted trainer resume from
the last checkpoint; a run whose data is gone fails alone."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import msgspec
import pytest

from contracts.dataset import DatasetView, GetDataset
from contracts.expert import DeleteExpert
from contracts.trainer import CHECKPOINTS, CancelFinetune, RunQueued
from runtime.eventstore import EventStore
from runtime.rpc import DomainError, request
from tests.conftest import TRAINER_ENV
from tests.support.flows import create_expert
from tests.support.inprocess import start_service
from tests.support.objects import sealed_objects
from tests.support.training import (
    TINY,
    base_and_tuned,
    dataset,
    finished,
    reached,
    run_view,
    start,
)
from tests.support.waiting import until

pytestmark = pytest.mark.integration


class DatasetFiles:
    def __init__(self, nc) -> None:
        self.objects = sealed_objects(nc)

    async def delete(self, ref) -> None:
        await self.objects.delete(ref.bucket, ref.name)


async def test_a_local_run_makes_an_adapter_that_changes_the_experts_answers(
    servers, services, nc, tmp_path
):
    expert = await create_expert(nc, "Trained keeper")
    accepted = await start(nc, expert, await dataset(nc, expert))
    assert accepted.estimate.total_steps == 4 and accepted.estimate.expected_seconds
    view = await finished(nc, accepted.run_id)

    assert view.status == "succeeded", view.error
    assert view.step == view.total_steps == 4 and view.trigger == "api"
    assert view.metrics.steps == 4 and view.metrics.tokens_per_s > 0
    assert view.metrics.train_loss is not None and view.metrics.val_loss is not None
    assert any(p.loss is not None for p in view.history)  # what the chart draws
    names = {f.name for f in view.files}
    assert {"adapter_model.safetensors", "adapter_config.json", "metrics.json"} <= names
    assert "training_args.json" in names

    base, tuned = await base_and_tuned(
        nc,
        view,
        tmp_path / "adapter",
        str(servers.base_model),
        tmp_path,
        "What colour is the harbour light?",
        max_tokens=12,
    )
    assert tuned != base


async def test_too_few_examples_are_refused_with_the_numbers(services, nc):
    expert = await create_expert(nc, "Few notes")
    with pytest.raises(DomainError) as refused:
        await start(nc, expert, await dataset(nc, expert, count=3))
    assert refused.value.code == "not_enough_data" and refused.value.status == 422
    assert "3 examples" in refused.value.detail and "at least 6" in refused.value.detail


async def test_the_same_data_config_and_seed_give_the_same_adapter_bytes(services, nc):
    expert = await create_expert(nc, "Twice trained")
    data = await dataset(nc, expert)
    first = await start(nc, expert, data)
    second = await start(nc, expert, data)
    views = [await finished(nc, r.run_id) for r in (first, second)]
    assert [v.status for v in views] == ["succeeded", "succeeded"]
    weights = [
        next(f.sha256 for f in v.files if f.name == "adapter_model.safetensors") for v in views
    ]
    assert weights[0] == weights[1]
    assert views[0].adapter_id != views[1].adapter_id


@pytest.fixture
async def slow_trainer(servers, services):
    """The session's trainer replaced by one whose steps take a while, so a run can be
    cancelled or killed in the middle."""
    await services["trainer"].stop()
    env = {**TRAINER_ENV, "SIMTUNE_TRAIN_STEP_DELAY_MS": "400"}

    async def begin():
        services["trainer"] = await start_service(servers.settings(**env), "trainer")
        return services["trainer"]

    holder = {"begin": begin}
    await begin()
    yield holder
    await services["trainer"].stop()
    services["trainer"] = await start_service(servers.settings(**TRAINER_ENV), "trainer")


def child_of(home: Path, run_id: str) -> int | None:
    """The pid of the training process of `run_id`, if one runs."""
    job = str(home / "trainer" / "runs" / "local" / run_id / "job.json")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if job.encode() in cmdline:
                return int(entry.name)
    return None


async def test_a_cancel_stops_the_run_within_seconds_and_keeps_nothing(
    servers, services, nc, slow_trainer, monkeypatch
):
    monkeypatch.setenv("SIMTUNE_SECRET_KEY", "k" * 44)  # in the service's environment
    monkeypatch.setenv("DATABASE_URL", "postgresql://simtune:hunter2@db/simtune")
    expert = await create_expert(nc, "Cancelled keeper")
    config = msgspec.structs.replace(TINY, epochs=8, max_steps=40, eval_steps=2)
    accepted = await start(nc, expert, await dataset(nc, expert), config=config)
    await reached(nc, accepted.run_id, lambda v: v.step >= 3)
    pid = child_of(servers.home, accepted.run_id)
    assert pid is not None
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert b"PATH" in {v.split(b"=", 1)[0] for v in environ}  # what it runs with, and
    assert not [v for v in environ if v.startswith((b"SIMTUNE_SECRET_KEY=", b"DATABASE_URL="))]

    await request(nc, "cmd.trainer.cancel", CancelFinetune(run_id=accepted.run_id), msgspec.Raw)
    view = await finished(nc, accepted.run_id, timeout=15)
    assert view.status == "cancelled" and view.adapter_id is None
    work = servers.home / "trainer" / "runs" / "local" / accepted.run_id
    for _ in range(100):  # the child and its folder are gone within seconds
        if child_of(servers.home, accepted.run_id) is None and not work.exists():
            break
        await asyncio.sleep(0.1)
    assert child_of(servers.home, accepted.run_id) is None
    assert not work.exists()
    store = await sealed_objects(nc).bucket(CHECKPOINTS)
    names = [o.name for o in await store.list(ignore_deletes=True)] if await _any(store) else []
    assert not [n for n in names if accepted.run_id in n]
    with pytest.raises(DomainError) as again:
        await request(nc, "cmd.trainer.cancel", CancelFinetune(run_id="nosuchrun"), msgspec.Raw)
    assert again.value.code == "not_found"


async def test_deleting_the_expert_cancels_its_runs(servers, services, nc, slow_trainer):
    expert = await create_expert(nc, "Departing keeper")
    config = msgspec.structs.replace(TINY, max_steps=60)
    accepted = await start(nc, expert, await dataset(nc, expert), config=config)
    await reached(nc, accepted.run_id, lambda v: v.step >= 1)
    await request(nc, "cmd.expert.delete", DeleteExpert(expert_id=expert), msgspec.Raw)

    async def ended() -> list[str] | None:
        events, _ = await EventStore(nc.jetstream()).load(
            "trainer", "local", "run", accepted.run_id
        )
        names = [type(r.event).__name__ for r in events]
        return names if names[-1] in ("RunCancelled", "RunFailed", "AdapterTrained") else None

    ended_with = await until(ended, timeout=30, what="the run's end")
    assert ended_with[-1] == "RunCancelled" and "AdapterTrained" not in ended_with

    async def gone() -> bool:  # then the run leaves the views with its expert
        try:
            await run_view(nc, accepted.run_id)
        except DomainError as exc:
            return exc.code == "not_found"
        return False

    await until(gone, timeout=60, what="the deleted expert's run leaving the views")


async def _any(store) -> bool:
    try:
        return bool(await store.list(ignore_deletes=True))
    except Exception:  # an empty bucket answers "no objects"
        return False


async def test_a_killed_training_process_and_a_restarted_trainer_resume_from_the_checkpoint(
    servers, services, nc, slow_trainer
):
    expert = await create_expert(nc, "Resumed keeper")
    config = msgspec.structs.replace(TINY, max_steps=12, eval_steps=2)
    accepted = await start(nc, expert, await dataset(nc, expert), config=config)
    run_id = accepted.run_id
    await reached(nc, run_id, lambda v: v.step >= 3)  # past the first checkpoint (step 2)
    os.kill(child_of(servers.home, run_id), signal.SIGKILL)  # an out-of-memory kill, say
    second = await reached(nc, run_id, lambda v: v.attempt >= 2 and v.step >= 5)
    assert second.resumed_from_step >= 2

    await services["trainer"].stop()  # the whole trainer goes away mid-run...
    work = servers.home / "trainer" / "runs" / "local" / run_id
    assert work.exists()
    import shutil

    shutil.rmtree(work)  # ...and its disk with it: the checkpoint comes from the store
    await slow_trainer["begin"]()
    view = await finished(nc, run_id)
    assert view.status == "succeeded", view.error
    assert view.attempt >= 3 and view.resumed_from_step >= 4
    assert view.step == 12


async def test_a_run_whose_data_is_gone_fails_alone_and_the_next_one_trains(services, nc):
    expert = await create_expert(nc, "Lost data")
    data = await dataset(nc, expert)
    view = await request(nc, "qry.dataset.get", GetDataset(dataset_id=data), DatasetView)
    gone = msgspec.structs.replace(view.content, name=f"local/{expert}/gone.examples.jsonl")
    estimate = (await start(nc, expert, data)).estimate  # a good run first, then the poison:
    poison = RunQueued(
        run_id="poisoned-run", expert_id=expert, number=99, dataset_id=data, dataset=gone,
        config=TINY, backend="peft", base_model="tiny", trigger="api", estimate=estimate,
    )  # fmt: skip
    await EventStore(nc.jetstream()).append(
        "trainer", "local", "line", expert, poison, expected_seq=None
    )
    failed = await finished(nc, "poisoned-run")
    assert failed.status == "failed" and "cannot be read" in failed.error

    fine = await start(nc, expert, data)
    assert (await finished(nc, fine.run_id)).status == "succeeded"

    await DatasetFiles(nc).delete(view.content)  # a dataset gone before the run: a clear 409
    with pytest.raises(DomainError) as refused:
        await start(nc, expert, data)
    assert refused.value.status == 409 and "build it again" in refused.value.detail
