"""The schedule: a tick starts a run when enough new examples have arrived, skips while one
is active, queues one run per tick however often the tick is seen, and says why it skipped
on the expert's settings."""

from __future__ import annotations

import pytest

from contracts.base import Accepted
from contracts.expert import CreateExpert, Profile
from contracts.trainer import (
    ConfigureFinetune,
    FinetuneSettings,
    GetFinetuneSettings,
    ListRuns,
    RunList,
)
from runtime.rpc import request
from tests.support.training import TINY, dataset, finished

pytestmark = pytest.mark.integration
TENANT = "scheduled"  # the tick is asked to look at this tenant's experts only
SUNDAY = "2026-11-29T02:00:00+00:00"
NEXT_SUNDAY = "2026-12-06T02:00:00+00:00"


async def settings_of(nc, expert: str) -> FinetuneSettings:
    query = GetFinetuneSettings(tenant=TENANT, expert_id=expert)
    return await request(nc, "qry.trainer.settings", query, FinetuneSettings)


async def test_ticks_start_a_run_on_new_data_and_otherwise_say_why_not(services, nc):
    trainer = services["trainer"]
    created = CreateExpert(tenant=TENANT, profile=Profile(name="Weekly keeper"))
    expert = (await request(nc, "cmd.expert.create", created, Accepted)).id
    await request(
        nc, "cmd.trainer.configure", ConfigureFinetune(tenant=TENANT, expert_id=expert, config=TINY),
        Accepted,
    )  # fmt: skip
    await dataset(nc, expert, tenant=TENANT)
    await trainer.wait_caught_up()

    first = await trainer.scheduler.tick(SUNDAY, tenant=TENANT)
    assert first[expert].startswith("started run ")
    run_id = first[expert].removeprefix("started run ")
    await trainer.scheduler.tick(SUNDAY, tenant=TENANT)  # another replica saw the same tick
    await trainer.wait_caught_up()
    runs = await request(nc, "qry.trainer.runs", ListRuns(tenant=TENANT, expert_id=expert), RunList)
    assert [r.id for r in runs.runs] == [run_id]
    busy = await trainer.scheduler.tick(NEXT_SUNDAY, tenant=TENANT)
    assert busy[expert] == f"skipped: run {run_id} is still active"

    view = await finished(nc, run_id, tenant=TENANT)
    assert view.status == "succeeded" and view.trigger == "schedule"
    await trainer.wait_caught_up()
    idle = await trainer.scheduler.tick("2026-12-13T02:00:00+00:00", tenant=TENANT)
    assert idle[expert] == (
        "skipped: 0 new examples since the last run; 6 are needed (FINETUNE_MIN_TRACES)"
    )
    await trainer.wait_caught_up()
    shown = await settings_of(nc, expert)
    assert shown.last_skip.startswith("0 new examples since the last run")
    assert shown.dataset_examples == 10 and shown.examples_since_last_run == 0
    assert shown.schedule == "off" and shown.next_tick is None
    assert shown.ranges["lora_rank"] == [4, 128]


async def test_a_deleted_expert_is_neither_trained_nor_noted_by_the_schedule(services, nc):
    from contracts.expert import DeleteExpert

    tenant = "scheduled-gone"
    trainer = services["trainer"]
    created = CreateExpert(tenant=tenant, profile=Profile(name="Retired keeper"))
    expert = (await request(nc, "cmd.expert.create", created, Accepted)).id
    await dataset(nc, expert, tenant=tenant)  # enough new examples for a run
    await request(nc, "cmd.expert.delete", DeleteExpert(tenant=tenant, expert_id=expert), Accepted)
    await trainer.wait_caught_up()

    outcome = await trainer.scheduler.tick(SUNDAY, tenant=tenant)
    assert outcome[expert] == "skipped: the expert was deleted"
    await trainer.wait_caught_up()
    runs = await request(nc, "qry.trainer.runs", ListRuns(tenant=tenant, expert_id=expert), RunList)
    assert runs.runs == []
