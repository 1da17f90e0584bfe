"""The console's fine-tuning dashboard over HTTP, against the real gateway, trainer and the
session's tiny model: linked from the expert; what there is to train on, the schedule, the
spend and every setting with its range; Run now trains to a run whose page shows its loss
and adapter; a bad setting is named next to its field and what was typed stays (never the
API key); too few examples is said in the Run now panel; a hosted run shows its cost and the
budget and is queued only once confirmed; a failed hosted run says why; Cancel stops a run.
"""

from __future__ import annotations

import html
import re

import msgspec
import pytest

from contracts.trainer import TrainConfig
from tests.integration.test_finetune_api import LONG, TINY, dataset, finished, running
from tests.support.api import HTML, linked_section, new_expert, ui_post
from tests.support.fake_finetune_api import KEY as PROVIDER_KEY
from tests.support.fake_finetune_api import fake_finetune_api
from tests.support.waiting import until

pytestmark = pytest.mark.integration

KEY = "sk-console-finetune-3e2d1c"
RANGES_SHOWN = {
    "lora_rank": "4 to 128",
    "lora_alpha": "8 to 256",
    "learning_rate": "0.00001 to 0.001",
    "batch_size": "1 to 32",
    "gradient_accumulation_steps": "1 to 16",
    "epochs": "1 to 10",
    "max_seq_length": "512 to 8192",
    "warmup_ratio": "0 to 0.5",
    "weight_decay": "0 to 0.5",
    "seed": "0 to 2147483647",
}


async def page(api, url: str) -> str:
    response = await api.get(url, headers=HTML)
    assert response.status_code == 200, response.text
    return html.unescape(response.text)


def form_of(config: dict, **more: str) -> dict:
    """The settings form as a person fills it in: every value typed as text (the ones not
    in `config` as the form first shows them)."""
    defaults = msgspec.structs.asdict(TrainConfig())
    values = {k: "" if v is None else str(v) for k, v in {**defaults, **config}.items()}
    return {**values, "base_model": "", "hosted_base_url": "", "hosted_model": "",
            "hosted_price": "", "hosted_api_key": "", "budget_usd": "", **more}  # fmt: skip


def field(fragment: str, name: str) -> str:
    """The settings form's field `name`: its input and the note under it."""
    match = re.search(rf'<div class="field" id="field-{name}">.*?</div>', fragment, re.S)
    assert match, f"no field {name}"
    return match.group(0)


async def save_settings(api, expert_id: str, form: dict) -> str:
    url = f"/ui/experts/{expert_id}/trainer/config"
    saved = await ui_post(api, url, form, htmx=True)
    assert saved.status_code == 200, saved.text
    return html.unescape(saved.text)


async def test_the_dashboard_is_linked_and_shows_data_schedule_spend_and_each_range(api):
    dashboard = await linked_section(api, page, "Tuning guide", "trainer", ">Fine-tuning</a>")
    for text in (
        "Fine-tuning Tuning guide",
        "No runs yet.",
        "No ready dataset yet.",
        "a run needs at least 6 examples",
        "Off: runs start only when you press Run now.",  # FINETUNE_SCHEDULE=off in tests
        "$0.00 of no limit",
        "Build a dataset</a> first.",
        "Hosted fine-tuning (optional)",
        ">Save settings</button>",
    ):
        assert text in dashboard, text
    for key, span in RANGES_SHOWN.items():
        assert f'<span class="range" id="range-{key}">{span}</span>' in dashboard, key
        assert f'name="{key}"' in dashboard
    for backend in ("auto", "peft", "unsloth", "axolotl", "openai"):
        assert f'<option value="{backend}"' in dashboard
    assert 'name="hosted_api_key" type="password"' in dashboard
    assert "A key is set." not in dashboard


async def test_run_now_trains_and_the_runs_page_shows_its_loss_and_adapter(api):
    expert = await new_expert(api)
    dataset_id = await dataset(api, expert["id"])
    saved = await save_settings(api, expert["id"], form_of(TINY))
    assert "Saved. The next run uses these settings." in saved
    assert 'value="0.001"' in field(saved, "learning_rate")  # 1e-3, as a person writes it

    dashboard = await page(api, f"/experts/{expert['id']}/trainer")
    assert f'<a href="/datasets/{dataset_id}">Version 1</a>' in dashboard
    assert "10 examples, 10 new since the last run." in dashboard
    assert re.search(
        r"newest version, as set up below: expected to take [^.]+ \(4 steps over \d+ examples\)\.",
        dashboard,
    )

    url = f"/ui/experts/{expert['id']}/trainer/runs"
    started = await ui_post(api, url, {"dataset_id": dataset_id, "backend": ""}, htmx=True)
    assert started.status_code == 200, started.text
    fragment = html.unescape(started.text)
    [run] = (await api.get("/api/finetune", params={"expert_id": expert["id"]})).json()["runs"]
    assert "Run 1 is queued." in fragment and run["trigger"] == "manual"
    assert f'data-progress="/api/finetune/{run["id"]}/progress"' in fragment
    assert "Cancel the run" in fragment

    view = await finished(api, run["id"])
    assert view["status"] == "succeeded", view
    shown = await page(api, f"/trainer/{run['id']}")
    metrics = shown.split('id="run-metrics"')[1]
    assert "Run 1 of" in shown and "Trained: the adapter is ready" in shown
    assert f"<code>{view['adapter_id']}</code>" in shown
    assert f"{view['metrics']['train_loss']:.4f}" in metrics
    assert f"{view['metrics']['val_loss']:.4f}" in metrics
    assert "adapter_model.safetensors" in shown and "Cancel the run" not in shown
    raw = (await api.get(f"/trainer/{run['id']}", headers=HTML)).text
    points = html.unescape(re.search(r'data-points="([^"]*)"', raw).group(1))
    assert '"loss":' in points and '"eval_loss":' in points  # what the chart draws

    live = await page(api, f"/ui/experts/{expert['id']}/trainer/live")
    row = re.search(rf'<tr id="finetune-run-{run["id"]}".*?</tr>', live, re.S).group(0)
    for text in ("Run 1", "by you", "Done", "Version 1", "PEFT", view["adapter_id"]):
        assert text in row, text
    assert "Latest run" in live and "data-progress" not in live


async def test_a_bad_setting_is_named_next_to_its_field_and_what_was_typed_stays(api):
    expert = await new_expert(api)
    url = f"/ui/experts/{expert['id']}/trainer/config"
    typed = form_of(
        TINY,
        lora_rank="200",
        learning_rate="fast",
        max_steps="",
        budget_usd="-5",
        hosted_base_url="http://127.0.0.1:9/v1",
        hosted_model="gpt-tiny",
        hosted_api_key=KEY,
    )
    refused = await ui_post(api, url, typed, htmx=True)
    assert refused.status_code == 400
    text = html.unescape(refused.text)
    rank = field(text, "lora_rank")
    assert 'value="200"' in rank and 'aria-invalid="true"' in rank
    assert "lora_rank must be between 4 and 128 (got 200)" in rank
    rate = field(text, "learning_rate")
    assert 'value="fast"' in rate
    assert "learning_rate must be a number between 0.00001 and 0.001 (got “fast”)" in rate
    assert 'value=""' in field(text, "max_steps") and "field-error" not in field(text, "epochs")
    assert "The budget must be from 0 to 1000000 dollars" in text
    assert 'value="http://127.0.0.1:9/v1"' in text and 'value="gpt-tiny"' in text
    assert KEY not in refused.text and "The API key you typed was not saved" in text
    settings = (await api.get("/api/finetune/config", params={"expert_id": expert["id"]})).json()
    assert settings["config"]["lora_rank"] == 16 and settings["hosted"] is None

    without_js = await ui_post(api, url, typed)
    assert without_js.status_code == 400 and "<h1>Fine-tuning" in without_js.text
    assert "lora_rank must be between 4 and 128 (got 200)" in html.unescape(without_js.text)
    assert KEY not in without_js.text

    saved = await ui_post(api, url, {**typed, "lora_rank": "8", "learning_rate": "0.0005",
                                     "budget_usd": "10"})  # fmt: skip
    assert saved.status_code == 303
    after = await page(api, saved.headers["location"])
    assert "A key is set." in after and KEY not in after
    assert 'value="8"' in field(after, "lora_rank")
    assert "$0.00 of $10.00 ($10.00 left)" in after


async def test_too_few_examples_is_said_before_and_after_pressing_run_now(api):
    expert = await new_expert(api)
    dataset_id = await dataset(api, expert["id"], count=3)
    dashboard = await page(api, f"/experts/{expert['id']}/trainer")
    assert "A run needs at least 6 examples: 3 more." in dashboard

    url = f"/ui/experts/{expert['id']}/trainer/runs"
    refused = await ui_post(api, url, {"dataset_id": dataset_id}, htmx=True)
    assert refused.status_code == 422
    error = re.search(r'<div class="alert error" role="alert" id="start-error">(.*?)</div>',
                      html.unescape(refused.text), re.S)  # fmt: skip
    assert error and "has 3 examples; a run needs at least 6" in error.group(1)
    assert (await api.get("/api/finetune", params={"expert_id": expert["id"]})).json()["runs"] == []


async def test_a_hosted_run_shows_its_cost_and_budget_and_waits_for_a_yes(api):
    expert = await new_expert(api)
    dataset_id = await dataset(api, expert["id"])
    async with fake_finetune_api(steps=3) as provider:
        await save_settings(
            api,
            expert["id"],
            form_of({**TINY, "backend": "openai"}, hosted_base_url=provider.url,
                    hosted_model="gpt-mini", hosted_price="2000", hosted_api_key=PROVIDER_KEY,
                    budget_usd="500"),
        )  # fmt: skip
        url = f"/ui/experts/{expert['id']}/trainer/runs"
        asked = await ui_post(api, url, {"dataset_id": dataset_id, "backend": ""}, htmx=True)
        assert asked.status_code == 200, asked.text
        text = html.unescape(asked.text)
        estimate = (
            await api.get("/api/finetune/estimate", params={"expert_id": expert["id"]})
        ).json()
        cost = f"${estimate['cost_usd']:.2f}"
        facts = text.split('id="confirm-facts"')[1]
        assert "Train on the hosted service?" in text and "gpt-mini" in text
        assert cost in facts and "$500.00" in facts and "Spent so far" in facts
        assert f"Queue it for {cost}" in text and 'name="confirm" value="yes"' in text
        assert PROVIDER_KEY not in asked.text and provider.uploads == {}
        runs = await api.get("/api/finetune", params={"expert_id": expert["id"]})
        assert runs.json()["runs"] == []

        confirm = {"dataset_id": dataset_id, "backend": "", "confirm": "yes"}
        queued = await ui_post(api, url, confirm, htmx=True)
        assert queued.status_code == 200 and "Run 1 is queued." in queued.text
        [run] = (await api.get("/api/finetune", params={"expert_id": expert["id"]})).json()["runs"]
        view = await finished(api, run["id"])
        assert view["status"] == "succeeded" and view["provider_model"], view
        # once the run is settled, what it cost (the provider's tokens) is what counts
        spent = f"${view['cost_usd']:.2f} of $500.00"

        async def settled() -> str | None:
            shown = await page(api, f"/experts/{expert['id']}/trainer")
            return shown if spent in shown else None

        dashboard = await until(settled, what=f"the dashboard showing {spent}")
        assert "Hosted" in dashboard

        provider.fail_job = True
        again = await ui_post(api, url, confirm, htmx=True)
        assert "Run 2 is queued." in again.text
        runs = (await api.get("/api/finetune", params={"expert_id": expert["id"]})).json()["runs"]
        failed = await finished(api, runs[0]["id"])
    assert failed["status"] == "failed" and failed["error"]
    live = await page(api, f"/ui/experts/{expert['id']}/trainer/live")
    row = re.search(rf'<tr id="finetune-run-{failed["id"]}".*?</tr>', live, re.S).group(0)
    assert "Failed" in row and failed["error"] in row
    assert "invalid format" in failed["error"]  # the provider's own words


async def test_cancel_stops_a_run_from_the_dashboard(api):
    expert = await new_expert(api)
    dataset_id = await dataset(api, expert["id"])
    await save_settings(api, expert["id"], form_of(LONG))
    url = f"/ui/experts/{expert['id']}/trainer/runs"
    started = await ui_post(api, url, {"dataset_id": dataset_id}, htmx=True)
    assert started.status_code == 200, started.text
    run_id = re.search(r'data-run="([^"]+)"', started.text).group(1)
    view = await running(api, run_id)
    assert view["status"] == "running"
    now = await page(api, f"/experts/{expert['id']}/trainer")
    assert "Training" in now and re.search(r"Step \d+ of \d+", now)
    assert '<meta http-equiv="refresh" content="5">' in now  # without JavaScript: reloads

    behind = await ui_post(api, url, {"dataset_id": dataset_id}, htmx=True)
    assert behind.status_code == 200 and "Run 2 is queued." in behind.text
    second = (await api.get("/api/finetune", params={"expert_id": expert["id"]})).json()["runs"][0]
    row = re.search(rf'<tr id="finetune-run-{second["id"]}".*?</tr>', behind.text, re.S).group(0)
    assert "Waiting" in row and "Waiting in the queue, position 1" in row
    assert f'id="run-{run_id}"' in behind.text  # the run going stays the one shown

    cancelled = await ui_post(api, f"/ui/trainer/{run_id}/cancel", htmx=True)
    assert cancelled.status_code == 200, cancelled.text
    text = html.unescape(cancelled.text)
    assert f'<tr id="finetune-run-{run_id}" data-status="cancelled">' in text
    assert (await finished(api, run_id))["status"] == "cancelled"
    assert (await ui_post(api, f"/ui/trainer/{second['id']}/cancel", htmx=True)).status_code == 200
    assert (await finished(api, second["id"]))["status"] == "cancelled"
    plain = await ui_post(api, f"/ui/trainer/{run_id}/cancel")
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/experts/{expert['id']}/trainer"
