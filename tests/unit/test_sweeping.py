"""The sweepers' decisions, pure: which checkpoint archives go, which dataset object an
export belongs to, the grace period's setting, and a loop that survives a failed sweep."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from runtime.objects import Stored, _when
from runtime.settings import SettingsError, load_settings
from runtime.sweeping import sweep_forever
from services.dataset.sweeper import made_from
from services.trainer.sweeper import doomed_checkpoints

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
OLD, YOUNG = NOW - timedelta(hours=7), NOW - timedelta(minutes=5)
BEFORE = NOW - timedelta(hours=6)


def test_an_ended_run_keeps_no_checkpoint_and_a_going_one_keeps_its_latest():
    stored = [
        Stored("local/going/checkpoint-2.tar", OLD),  # left by a restarted training process
        Stored("local/going/checkpoint-4.tar", OLD),  # what it resumes from
        Stored("local/ended/checkpoint-6.tar", OLD),
        Stored("local/ended/checkpoint-8.tar", YOUNG),  # young: maybe still being written
    ]
    doomed = doomed_checkpoints(stored, {("local", "going")}, BEFORE)
    assert doomed == ["local/going/checkpoint-2.tar", "local/ended/checkpoint-6.tar"]


def test_a_run_of_another_tenant_with_the_same_id_is_another_run():
    stored = [Stored("other/going/checkpoint-4.tar", OLD)]
    assert doomed_checkpoints(stored, {("local", "going")}, BEFORE) == [stored[0].name]


def test_an_export_belongs_to_the_examples_it_was_rendered_from():
    examples = "local/e1/" + "a" * 64 + ".examples.jsonl"
    assert made_from(examples) == examples
    assert made_from(examples + ".alpaca.val.jsonl") == examples
    rejections = "local/e1/" + "b" * 64 + ".rejections.jsonl"
    assert made_from(rejections) == rejections


def test_an_object_time_is_read_to_the_microsecond():
    assert _when("2026-12-07T04:10:00.123456789Z") == datetime(
        2026, 12, 7, 4, 10, 0, 123456, tzinfo=UTC
    )
    assert _when("2026-12-07T04:10:00Z") == datetime(2026, 12, 7, 4, 10, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["soon", "5", "-1", "99999999"])
def test_a_grace_period_out_of_range_is_refused_naming_the_setting(raw):
    with pytest.raises(SettingsError, match="SIMTUNE_SWEEP_GRACE_S"):
        load_settings({"SIMTUNE_SWEEP_GRACE_S": raw})


def test_the_grace_period_defaults_to_hours():
    assert load_settings({}).sweep_grace_s == 6 * 3600
    assert load_settings({"SIMTUNE_SWEEP_GRACE_S": "600"}).sweep_grace_s == 600


async def test_a_sweep_that_fails_is_tried_again_and_the_loop_goes_on():
    calls = []

    async def flaky() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("the disk went away for a moment")
        return 0

    loop = asyncio.create_task(sweep_forever("test", flaky, every_s=0))
    while len(calls) < 3:
        assert not loop.done(), loop
        await asyncio.sleep(0)
    loop.cancel()
    await asyncio.gather(loop, return_exceptions=True)
    assert loop.cancelled()
