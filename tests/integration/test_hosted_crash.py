"""A trainer process killed (SIGKILL, no goodbye) between the provider's creating a hosted
job and the job's id reaching the log: the restarted trainer finds that job by the key on
the log and follows it, so the run ends with one job at the provider, not two.

The trainer runs as a real process against the session's NATS and Postgres (the in-process
trainer is stopped meanwhile); the stand-in provider kills it inside the job-creation
request, after the job exists and before its answer leaves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_ENV, TRAINER_ENV
from tests.integration.test_crash_recovery import wait_for_service
from tests.integration.test_finetune_hosted import configure
from tests.integration.test_hosted_jobs import logged, until
from tests.support.fake_finetune_api import fake_finetune_api
from tests.support.flows import create_expert
from tests.support.inprocess import start_service
from tests.support.training import dataset, finished, start

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def trainer_process(servers, services):
    """Start (and restart) the trainer as a process of its own; the in-process one is
    stopped meanwhile and started again after."""
    await services["trainer"].stop()
    env = {
        **os.environ,
        **TEST_ENV,
        **TRAINER_ENV,
        "NATS_URL": servers.nats_url,
        "DATABASE_URL": servers.database_url,
        "SIMTUNE_HOME": str(servers.home),
        "SIMTUNE_BASE_MODEL": str(servers.base_model),
        "SIMTUNE_WORK_ACK_WAIT_S": "2",
    }
    procs: list[subprocess.Popen] = []
    log = open(servers.home / "trainer-process.log", "ab")  # noqa: SIM115 - closed below

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.trainer"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        procs.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        log.close()
        services["trainer"] = await start_service(servers.settings(**TRAINER_ENV), "trainer")


async def test_a_trainer_killed_between_creating_a_job_and_recording_it_makes_no_second_job(
    nc, trainer_process
):
    first = trainer_process()
    await wait_for_service(nc, "trainer")
    expert = await create_expert(nc, "Crashed keeper")
    data = await dataset(nc, expert)
    async with fake_finetune_api(steps=2) as api:
        await configure(nc, expert, api.url)

        def crash(_job: dict) -> None:  # the job exists; its answer never leaves
            first.send_signal(signal.SIGKILL)
            first.wait()

        api.on_create = crash
        accepted = await start(nc, expert, data, config=None, confirm=True)
        await until(lambda: first.poll() is not None, "the trainer killed", timeout=120)
        assert len(api.jobs) == 1
        assert (await logged(nc, accepted.run_id))["HostedJobCreated"] == 0  # never recorded
        api.on_create = None

        trainer_process()  # a fresh process: the run is delivered to it again
        await wait_for_service(nc, "trainer")
        view = await finished(nc, accepted.run_id, timeout=180)
        assert view.status == "succeeded", view.error
        assert len(api.jobs) == 1 and len(api.created) == 1  # the same job, followed
        assert view.provider_model == api.job()["fine_tuned_model"]
        kinds = await logged(nc, accepted.run_id)
        assert kinds["HostedJobRequested"] == 1 and kinds["HostedJobCreated"] == 1
        assert kinds["RunStarted"] == 2  # the killed attempt, then the one that finished
