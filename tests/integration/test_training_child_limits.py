"""A local training child shares the machine with answering: it runs at a lower priority
(`SIMTUNE_TRAIN_NICE`) and its numeric libraries hold to `SIMTUNE_TRAIN_THREADS` threads,
read from the running child itself (its priority, environment and job)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import msgspec
import pytest

from contracts.base import Accepted
from contracts.trainer import CancelFinetune
from runtime.child_env import THREAD_VARIABLES
from runtime.rpc import request
from tests.conftest import TRAINER_ENV
from tests.integration.test_finetune_runs import child_of
from tests.support.flows import create_expert
from tests.support.inprocess import start_service
from tests.support.training import TINY, dataset, finished, reached, start

pytestmark = pytest.mark.integration


@pytest.fixture
async def capped_trainer(servers, services):
    """The session's trainer replaced by one with slow steps, a thread cap and a nice level."""
    await services["trainer"].stop()
    env = {
        **TRAINER_ENV,
        "SIMTUNE_TRAIN_STEP_DELAY_MS": "400",
        "SIMTUNE_TRAIN_THREADS": "1",
        "SIMTUNE_TRAIN_NICE": "7",
    }
    services["trainer"] = await start_service(servers.settings(**env), "trainer")
    yield services["trainer"]
    await services["trainer"].stop()
    services["trainer"] = await start_service(servers.settings(**TRAINER_ENV), "trainer")


def _environ(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(p.decode().split("=", 1) for p in pairs if b"=" in p)


def _nice_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])  # field 19: nice


async def test_a_training_child_runs_niced_and_thread_capped(servers, nc, capped_trainer):
    expert = await create_expert(nc, "Modest keeper")
    config = msgspec.structs.replace(TINY, epochs=8, max_steps=40, eval_steps=2)
    accepted = await start(nc, expert, await dataset(nc, expert), config=config)
    await reached(nc, accepted.run_id, lambda v: v.step >= 2)  # training, not loading
    pid = child_of(servers.home, accepted.run_id)
    assert pid is not None

    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(own + 7, 19)
    assert _nice_of(pid) == min(own + 7, 19)
    environ = _environ(pid)
    assert {name: environ.get(name) for name in THREAD_VARIABLES} == dict.fromkeys(
        THREAD_VARIABLES, "1"
    )
    job = servers.home / "trainer" / "runs" / "local" / accepted.run_id / "job.json"
    assert json.loads(job.read_text())["threads"] == 1  # torch.set_num_threads in the child

    await request(nc, "cmd.trainer.cancel", CancelFinetune(run_id=accepted.run_id), Accepted)
    assert (await finished(nc, accepted.run_id, timeout=30)).status == "cancelled"
