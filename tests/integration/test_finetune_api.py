"""The fine-tuning API against the real gateway, trainer and the session's tiny model: a run
queued over HTTP trains to `succeeded` and its progress streams as SSE (loss points, then the
end); a config out of range is a 400 naming the key and the range; too few examples a 422; a
cancel stops a run; a hosted run must be confirmed (409 with its estimate) and stays within
the budget (422 with the figures); the settings round-trip and never show the API key.

A run trains a handful of steps on hand-written examples: a few seconds each.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.support.api import dataset_settled, new_expert
from tests.support.waiting import until

pytestmark = pytest.mark.integration

# A few steps on the session's tiny model: seconds, not minutes.
TINY = {
    "lora_rank": 4,
    "lora_alpha": 8,
    "batch_size": 2,
    "gradient_accumulation_steps": 1,
    "epochs": 1,
    "max_steps": 4,
    "eval_steps": 2,
    "max_seq_length": 512,
    "learning_rate": 1e-3,
    "backend": "peft",
}
LONG = {**TINY, "max_steps": 100_000, "epochs": 10}  # runs until it is cancelled
ENDED = ("succeeded", "failed", "cancelled")
KEY = "sk-finetune-api-6c5b4a"
FACTS = [
    (f"When does the ferry to island {n} leave?", f"The ferry to island {n} leaves at {n + 6}.")
    for n in range(12)
]


async def dataset(api: httpx.AsyncClient, expert_id: str, count: int = 10) -> str:
    """A ready dataset version of `count` hand-written examples; its id."""
    manual = [{"question": q, "answer": a} for q, a in FACTS[:count]]
    reply = await api.post(
        f"/api/experts/{expert_id}/datasets", json={"sources": {"manual": manual}}
    )
    assert reply.status_code == 202, reply.text
    view = await dataset_settled(api, reply.json()["dataset_id"])
    assert view["status"] == "ready", view
    return view["id"]


async def start(api: httpx.AsyncClient, expert_id: str, dataset_id: str | None, **body):
    body = {"expert_id": expert_id, "dataset_id": dataset_id, "config": TINY, **body}
    return await api.post("/api/finetune", json=body)


async def progress(
    api: httpx.AsyncClient, run_id: str, timeout: float = 180.0, events: list | None = None
) -> list[dict]:
    """Every event of the run's progress stream, until the stream ends (in `events` too, as
    they come)."""
    events = [] if events is None else events
    async with asyncio.timeout(timeout):
        async with api.stream("GET", f"/api/finetune/{run_id}/progress", timeout=timeout) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    events.append(json.loads(line[5:]))
    return events


async def finished(api: httpx.AsyncClient, run_id: str, timeout: float = 180.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        view = (await api.get(f"/api/finetune/{run_id}")).json()
        if view["status"] in ENDED:
            return view
        assert asyncio.get_running_loop().time() < deadline, f"still {view['status']}"
        await asyncio.sleep(0.2)


async def running(api: httpx.AsyncClient, run_id: str, timeout: float = 60.0) -> dict:
    """The run once it has started training (a step done)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        view = (await api.get(f"/api/finetune/{run_id}")).json()
        if view["status"] == "running" and view["step"] > 0 or view["status"] in ENDED:
            return view
        assert asyncio.get_running_loop().time() < deadline, f"still {view['status']}"
        await asyncio.sleep(0.1)


async def hosted_settings(api, expert_id: str, budget_usd: float | None = None) -> dict:
    body = {
        "config": {**TINY, "backend": "openai"},
        "hosted": {
            "base_url": "http://127.0.0.1:9/v1",
            "model": "gpt-tiny-2025",
            "price_per_million_tokens_usd": 25.0,
            "api_key": KEY,
        },
        "budget_usd": budget_usd,
    }
    reply = await api.put("/api/finetune/config", params={"expert_id": expert_id}, json=body)
    assert reply.status_code == 200, reply.text
    assert KEY not in reply.text
    return reply.json()


async def test_a_run_from_the_api_trains_and_its_progress_streams_to_the_end(api):
    expert = await new_expert(api)
    dataset_id = await dataset(api, expert["id"])
    estimate = await api.get(
        "/api/finetune/estimate", params={"expert_id": expert["id"], "dataset_id": dataset_id}
    )
    assert estimate.status_code == 200, estimate.text

    started = await start(api, expert["id"], dataset_id)
    assert started.status_code == 202, started.text
    run = started.json()
    assert started.headers["location"] == f"/api/finetune/{run['run_id']}"
    assert run["id"] == run["run_id"] and run["expert_id"] == expert["id"]
    assert run["dataset_id"] == dataset_id and run["backend"] == "peft"
    assert run["status"] in ("queued", "running") and run["trigger"] == "api"
    assert run["estimate"]["total_steps"] == 4 and run["estimate"]["expected_seconds"] is not None

    events = await progress(api, run["run_id"])
    assert events[-1]["status"] == "succeeded", events[-1]
    assert all(e["status"] != "succeeded" for e in events[:-1])
    assert set(events[0]) >= {
        "step", "total_steps", "loss", "eval_loss", "eta_seconds", "status", "queue_position",
    }  # fmt: skip
    steps = [e["step"] for e in events]
    assert steps == sorted(steps) and steps[-1] == events[-1]["total_steps"] == 4
    points = [p for e in events for p in e["points"]]
    assert any(p.get("loss") is not None for p in points)
    assert any(p.get("eval_loss") is not None for p in points)
    assert len(points) == len({(p["step"], p.get("loss"), p.get("eval_loss")) for p in points})

    view = (await api.get(f"/api/finetune/{run['run_id']}")).json()
    assert view["status"] == "succeeded" and view["adapter_id"]
    assert view["step"] == view["total_steps"] == 4
    assert view["loss"] is not None and view["eval_loss"] is not None and view["error"] is None
    assert events[-1]["adapter_id"] == view["adapter_id"]
    assert len(view["history"]) == len(points)

    listed = await api.get("/api/finetune", params={"expert_id": expert["id"]})
    assert [r["id"] for r in listed.json()["runs"]] == [run["run_id"]]
    again = await progress(api, run["run_id"])  # an ended run: its state, then the end
    assert len(again) == 1 and again[0]["status"] == "succeeded"
    assert len(again[0]["points"]) == len(points)


async def test_a_config_out_of_range_is_a_400_naming_the_key_and_the_range(api):
    expert = await new_expert(api)
    dataset_id = await dataset(api, expert["id"])
    wide = await start(api, expert["id"], dataset_id, config={**TINY, "lora_rank": 200})
    assert wide.status_code == 400, wide.text
    body = wide.json()
    assert body["error"] == "invalid"
    assert "lora_rank must be between 4 and 128 (got 200)" in body["detail"], body

    slow = await start(api, expert["id"], dataset_id, config={"learning_rate": 0.5})
    assert slow.status_code == 400
    assert "learning_rate must be between 0.00001 and 0.001" in slow.json()["detail"]

    typo = await start(api, expert["id"], dataset_id, config={"lora_rnak": 8})
    assert typo.status_code == 400 and "lora_rnak" in typo.json()["detail"]

    put = await api.put(
        "/api/finetune/config",
        params={"expert_id": expert["id"]},
        json={"config": {"epochs": 11}},
    )
    assert put.status_code == 400 and "epochs must be between 1 and 10" in put.json()["detail"]
    listed = await api.get("/api/finetune", params={"expert_id": expert["id"]})
    assert listed.json()["runs"] == []


async def test_too_few_examples_is_a_422_saying_how_many_are_needed(api):
    expert = await new_expert(api)
    nothing = await start(api, expert["id"], None)
    assert nothing.status_code == 422, nothing.text
    assert nothing.json()["error"] == "not_enough_data"
    assert "no ready dataset" in nothing.json()["detail"]

    small = await dataset(api, expert["id"], count=3)
    settings = (await api.get("/api/finetune/config", params={"expert_id": expert["id"]})).json()
    needed = settings["min_examples"]
    assert needed > 3
    refused = await start(api, expert["id"], small)
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert "has 3 examples" in detail and f"at least {needed}" in detail, detail
    assert settings["dataset_id"] == small and settings["dataset_examples"] == 3


async def test_a_run_can_be_cancelled_and_an_ended_one_cannot(api):
    expert = await new_expert(api)
    dataset_id = await dataset(api, expert["id"])
    started = await start(api, expert["id"], dataset_id, config=LONG)
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    view = await running(api, run_id)
    assert view["status"] == "running", view

    cancelled = await api.delete(f"/api/finetune/{run_id}")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    events = await progress(api, run_id)
    assert [e["status"] for e in events] == ["cancelled"]
    again = await api.delete(f"/api/finetune/{run_id}")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"

    done = await start(api, expert["id"], dataset_id)
    run = await finished(api, done.json()["run_id"])
    assert run["status"] == "succeeded", run
    late = await api.delete(f"/api/finetune/{run['id']}")
    assert late.status_code == 409 and late.json()["error"] == "conflict"
    assert "succeeded" in late.json()["detail"]


async def test_a_hosted_run_waits_for_a_yes_and_stays_within_the_budget(api):
    expert = await new_expert(api)
    dataset_id = await dataset(api, expert["id"])
    settings = await hosted_settings(api, expert["id"], budget_usd=50.0)
    assert settings["hosted"]["key_set"] is True and "api_key" not in settings["hosted"]

    estimate = await api.get("/api/finetune/estimate", params={"expert_id": expert["id"]})
    assert estimate.status_code == 200, estimate.text
    figures = estimate.json()
    assert figures["backend"] == "openai" and figures["cost_usd"] > 0
    assert figures["budget_usd"] == 50.0 and figures["expected_seconds"] is None
    local = await api.get(
        "/api/finetune/estimate", params={"expert_id": expert["id"], "backend": "peft"}
    )
    assert local.json()["cost_usd"] is None and local.json()["expected_seconds"] is not None

    unconfirmed = await start(api, expert["id"], dataset_id, config=None)
    assert unconfirmed.status_code == 409, unconfirmed.text
    body = unconfirmed.json()
    assert body["error"] == "confirmation_required"
    assert f"${figures['cost_usd']:.2f}" in body["detail"] and "training tokens" in body["detail"]
    assert (await api.get("/api/finetune", params={"expert_id": expert["id"]})).json()["runs"] == []

    await hosted_settings(api, expert["id"], budget_usd=0.0)
    over = await start(api, expert["id"], dataset_id, config=None, confirm=True)
    assert over.status_code == 422 and over.json()["error"] == "over_budget", over.text
    assert "$0.00" in over.json()["detail"]


async def test_the_settings_round_trip_keep_the_key_and_never_show_it(api):
    expert = await new_expert(api)
    url, params = "/api/finetune/config", {"expert_id": expert["id"]}
    first = (await api.get(url, params=params)).json()
    assert first["config"]["lora_rank"] == 16 and first["hosted"] is None
    assert first["ranges"]["lora_rank"] == [4, 128] and first["active_run"] is None
    assert first["min_examples"] >= 1 and first["schedule"]

    await hosted_settings(api, expert["id"], budget_usd=12.5)
    change = {
        "config": {"lora_rank": 32, "epochs": 2},
        "hosted": {"base_url": "http://127.0.0.1:9/v1", "model": "gpt-tiny-2025"},
        "budget_usd": 20,
    }
    changed = await api.put(url, params=params, json=change)
    assert changed.status_code == 200, changed.text
    shown = changed.json()
    assert shown["config"]["lora_rank"] == 32 and shown["config"]["epochs"] == 2
    assert shown["config"]["learning_rate"] == 2e-4  # left out: back to its default
    assert shown["hosted"]["key_set"] is True  # no api_key sent: the key stays
    assert shown["budget_usd"] == 20
    reread = await api.get(url, params=params)
    assert reread.json() == shown and KEY not in reread.text


async def test_unknown_runs_and_experts_are_404(api):
    assert (await api.get("/api/finetune/nope")).status_code == 404
    assert (await api.get("/api/finetune/nope/progress")).status_code == 404
    assert (await api.delete("/api/finetune/nope")).status_code == 404
    assert (await api.get("/api/finetune", params={"expert_id": "nope"})).status_code == 404
    assert (await api.get("/api/finetune/config", params={"expert_id": "nope"})).status_code == 404
    missing = await start(api, "nope", None)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    bad = await api.get("/api/finetune/estimate", params={"expert_id": "x", "backend": "gpu"})
    assert bad.status_code == 400


async def test_a_run_behind_another_streams_its_place_in_the_queue_then_trains(api):
    expert = await new_expert(api)
    dataset_id = await dataset(api, expert["id"])
    first = (await start(api, expert["id"], dataset_id, config=LONG)).json()["run_id"]
    assert (await running(api, first))["status"] == "running"
    second = await start(api, expert["id"], dataset_id)
    assert second.status_code == 202, second.text
    waiting = second.json()
    assert waiting["status"] == "queued" and waiting["queue_position"] == 1, waiting

    heard: list[dict] = []
    following = asyncio.create_task(progress(api, waiting["run_id"], events=heard))
    await until(lambda: heard, what="the queued run's first progress event")
    assert not following.done()  # the stream of a queued run stays open
    settings = await api.get("/api/finetune/config", params={"expert_id": expert["id"]})
    assert settings.json()["active_run"] == first
    assert (await api.delete(f"/api/finetune/{first}")).json()["status"] == "cancelled"
    events = await following
    assert events[0]["status"] == "queued" and events[0]["queue_position"] == 1, events[0]
    assert events[0]["step"] == 0 and events[0]["points"] == []
    assert "running" in [e["status"] for e in events] and events[-1]["status"] == "succeeded"
    assert all(e["queue_position"] is None for e in events if e["status"] != "queued")
