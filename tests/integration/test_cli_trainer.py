"""`simtune trainer` against the real gateway, trainer and the session's tiny model: settings
changed from the command line, a run followed to its adapter (exit 0), listed and shown; bad
input, too few examples and unknown runs as one line and exit 1; a hosted run that asks
before it is queued and a failed one that says why; Ctrl-C that cancels the run or leaves it
going."""

from __future__ import annotations

import re

import pytest

import cli.trainer.follow
from tests.integration.test_cli import expert_fixture, one_line_error, simtune, unique  # noqa: F401
from tests.integration.test_finetune_api import LONG, TINY, dataset, finished, running
from tests.support.fake_finetune_api import KEY as PROVIDER_KEY
from tests.support.fake_finetune_api import fake_finetune_api

pytestmark = pytest.mark.integration


def sets(config: dict) -> list[str]:
    return [arg for key, value in config.items() for arg in ("--set", f"{key}={value}")]


expert = expert_fixture("Ferryman")


async def test_train_follows_a_run_to_its_adapter_then_lists_and_shows_it(
    simtune,  # noqa: F811
    api,
    expert,
):
    dataset_id = await dataset(api, expert["id"])
    tiny = {k: v for k, v in TINY.items() if k != "backend"}
    configured = await simtune(
        "trainer", "config", expert["name"], *sets(tiny), "--backend", "peft"
    )
    assert configured.exit_code == 0, configured.stderr
    assert "Saved the fine-tuning settings" in configured.stdout
    assert "lora_rank" in configured.stdout and "4  (4 to 128)" in configured.stdout

    trained = await simtune("trainer", expert["name"])
    assert trained.exit_code == 0, trained.stderr
    out = trained.stdout
    run_id = re.search(rf"Queued run 1 of {expert['name']} \(id (\w+)\) on peft", out).group(1)
    assert re.search(r"expected to take about \d+(m \d\d)?s \(4 steps", out), out
    view = (await api.get(f"/api/finetune/{run_id}")).json()
    assert view["status"] == "succeeded" and view["trigger"] == "manual"
    assert f"Run 1 succeeded: adapter {view['adapter_id']}" in out
    assert f"Final loss       {view['metrics']['train_loss']:.4f}" in out
    assert f"{view['metrics']['val_loss']:.4f}" in out and dataset_id in out

    listed = await simtune("trainer", "list", expert["name"])
    assert listed.exit_code == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if run_id in line)
    assert "succeeded" in row and "4/4" in row and view["adapter_id"] in row

    shown = await simtune("trainer", "status", run_id)
    assert shown.exit_code == 0, shown.stderr
    assert "succeeded" in shown.stdout and view["adapter_id"] in shown.stdout
    assert "4 of 4" in shown.stdout

    again = await simtune(
        "trainer", "run", expert["id"], "--dataset", dataset_id, "--set", "max_steps=2"
    )
    assert again.exit_code == 0, again.stderr
    assert "Run 2 succeeded" in again.stdout
    second = (await api.get("/api/finetune", params={"expert_id": expert["id"]})).json()["runs"][0]
    assert second["total_steps"] == 2 and second["config"]["lora_rank"] == 4


async def test_bad_input_and_too_little_data_are_one_line_and_exit_1(simtune, api, expert):  # noqa: F811
    name = expert["name"]
    one_line_error(await simtune("trainer", name), "no ready dataset")
    await dataset(api, expert["id"], count=3)
    one_line_error(await simtune("trainer", name), "has 3 examples", "at least 6")
    one_line_error(
        await simtune("trainer", name, "--set", "lora_rank=200"),
        "lora_rank must be between 4 and 128 (got 200)",
    )
    one_line_error(await simtune("trainer", name, "--set", "lora_rnak=8"), "lora_rnak", "no such")
    one_line_error(await simtune("trainer", name, "--set", "epochs"), "KEY=VALUE")
    one_line_error(await simtune("trainer", name, "--backend", "gpu"), "--backend", "peft")
    one_line_error(
        await simtune("trainer", "config", name, "--set", "epochs=11"),
        "epochs must be between 1 and 10",
    )
    one_line_error(await simtune("trainer", "config", name, "--budget", "lots"), "--budget")
    one_line_error(await simtune("trainer", "status", "nope"), "nope", "not found")
    one_line_error(await simtune("trainer", "cancel", "nope"), "nope", "not found")
    one_line_error(await simtune("trainer", unique("Nobody")), "no expert")
    listed = await simtune("trainer", "list", name)
    assert listed.exit_code == 0 and "no runs yet" in listed.stdout


async def test_a_hosted_run_asks_before_it_is_queued_and_a_failed_one_says_why(
    simtune,  # noqa: F811
    api,
    expert,
    monkeypatch,
):
    await dataset(api, expert["id"])
    monkeypatch.setenv("FT_PROVIDER_KEY", PROVIDER_KEY)
    async with fake_finetune_api(steps=3) as provider:
        hosted = (
            "--backend", "openai", "--hosted-url", provider.url, "--hosted-model", "gpt-mini",
            "--price", "2000", "--api-key-env", "FT_PROVIDER_KEY", "--budget", "500",
        )  # fmt: skip
        configured = await simtune("trainer", "config", expert["name"], *sets(TINY), *hosted)
        assert configured.exit_code == 0, configured.stderr
        assert "a key is set" in configured.stdout and PROVIDER_KEY not in configured.stdout

        declined = await simtune("trainer", expert["name"], input="n\n")
        one_line_error(declined, "nothing was queued")
        assert re.search(r"This hosted run is estimated at \$\d+\.\d\d for \d+", declined.stdout)
        assert "Queue this hosted run?" in declined.stdout and provider.uploads == {}
        runs = await api.get("/api/finetune", params={"expert_id": expert["id"]})
        assert runs.json()["runs"] == []

        accepted = await simtune("trainer", expert["name"], input="y\n")
        assert accepted.exit_code == 0, accepted.stderr
        assert "Run 1 succeeded" in accepted.stdout and "ft:gpt-mini:simtune:" in accepted.stdout
        assert re.search(r"on openai: estimated cost \$\d+\.\d\d", accepted.stdout)

        provider.fail_job = True
        failed = await simtune("trainer", expert["name"], "--yes")
        one_line_error(failed, "run 2 failed:", "invalid format")
        assert "Queue this hosted run?" not in failed.stdout


async def test_ctrl_c_cancels_the_run_or_leaves_it_going(simtune, api, expert, monkeypatch):  # noqa: F811
    dataset_id = await dataset(api, expert["id"])
    follow = cli.trainer.follow.progress_events

    def interrupted_after_a_step(client, run_id, deadline):
        for event in follow(client, run_id, deadline):
            yield event
            if event["step"] > 0:
                raise KeyboardInterrupt

    monkeypatch.setattr(cli.trainer.follow, "progress_events", interrupted_after_a_step)
    long = (expert["name"], "--dataset", dataset_id, *sets(LONG))
    cancelled = await simtune("trainer", *long, input="y\n")
    one_line_error(cancelled, "run 1 was cancelled")
    assert "Cancel run 1?" in cancelled.stdout
    [run] = (await api.get("/api/finetune", params={"expert_id": expert["id"]})).json()["runs"]
    assert (await finished(api, run["id"]))["status"] == "cancelled"

    left = await simtune("trainer", *long, input="n\n")
    assert left.exit_code == 130
    run_id = re.search(r"simtune trainer status (\w+)", left.stdout).group(1)
    assert "Run 2 goes on." in left.stdout
    assert (await running(api, run_id))["status"] == "running"
    stopped = await simtune("trainer", "cancel", run_id)
    assert stopped.exit_code == 0 and "Run 2 is cancelled." in stopped.stdout
