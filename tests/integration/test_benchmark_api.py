"""The benchmarks API against the real gateway and benchmark service (the session's tiny model,
answers of 8 tokens): a run is queued with 202 and a Location, followed to its end (by polling
and by SSE), listed, read with its per-question results and summarised per API.md; a run can
be cancelled; custom questions are added, listed, deleted and imported as JSONL with each bad
line named; the export reads the same in JSON and CSV; a bad cron is a 400 naming it; a
diagnosis without the expert's own questions says what is needed; nothing answers 5xx.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json

import httpx
import pytest

from tests.support.api import new_expert

pytestmark = pytest.mark.integration

ENDED = ("succeeded", "failed", "cancelled")
RUN_FIELDS = (
    "id", "expert_id", "adapter_id", "status", "progress", "composite_score", "avg_quality",
    "per_domain", "avg_response_ms", "tokens_per_s", "vs_baseline_pct", "vs_previous_pct",
    "started_at", "finished_at",
)  # fmt: skip
JSONL = "application/x-ndjson"


async def started(api: httpx.AsyncClient, expert_id: str, **body) -> dict:
    response = await api.post("/api/benchmark", json={"expert_id": expert_id, **body})
    assert response.status_code == 202, response.text
    run = response.json()
    assert response.headers["location"] == f"/api/benchmark/{run['run_id']}"
    assert run["id"] == run["run_id"] and run["status"] in ("queued", "running")
    return run


async def ended(api: httpx.AsyncClient, run_id: str, timeout: float = 120.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await api.get(f"/api/benchmark/{run_id}")
        assert response.status_code == 200, response.text
        if response.json()["status"] in ENDED:
            return response.json()
        assert asyncio.get_running_loop().time() < deadline, response.text
        await asyncio.sleep(0.2)


async def finished_run(api: httpx.AsyncClient, expert_id: str, **body) -> dict:
    run = await ended(api, (await started(api, expert_id, adapter_id="base", **body))["run_id"])
    assert run["status"] == "succeeded", run
    return run


async def test_a_run_is_queued_followed_listed_and_read_with_its_results(api):
    expert = await new_expert(api)
    run = await finished_run(api, expert["id"])
    for key in RUN_FIELDS:
        assert key in run, key
    assert run["adapter_id"] is None and run["progress"] == 1.0
    assert 0 <= run["composite_score"] <= 100 and run["started_at"] and run["finished_at"]
    assert set(run["per_domain"]) == {"mathematics", "coding", "science", "reasoning", "creative"}

    listed = await api.get("/api/benchmark", params={"expert_id": expert["id"]})
    assert listed.status_code == 200 and [r["id"] for r in listed.json()] == [run["id"]]
    every = (await api.get("/api/benchmark", params={"limit": 5000})).json()
    assert run["id"] in [r["id"] for r in every]
    by_base = await api.get(
        "/api/benchmark", params={"expert_id": expert["id"], "adapter_id": "base"}
    )
    assert [r["id"] for r in by_base.json()] == [run["id"]]
    later = await api.get(
        "/api/benchmark", params={"expert_id": expert["id"], "since": "2999-01-01"}
    )
    assert later.status_code == 200 and later.json() == []
    bad_date = await api.get("/api/benchmark", params={"expert_id": expert["id"], "since": "soon"})
    assert bad_date.status_code == 400 and "since" in bad_date.json()["detail"]

    scored = (await api.get(f"/api/benchmark/{run['id']}/results")).json()
    assert scored["run_id"] == run["id"] and len(scored["results"]) == 10
    assert {"question_id", "answer", "score", "scorer"} <= set(scored["results"][0])

    summary = (await api.get("/api/benchmark/summary", params={"expert_id": expert["id"]})).json()
    assert [p["id"] for p in summary["points"]] == [run["id"]]
    assert "composite = 100" in summary["formula"]
    assert [c["label"] for c in summary["comparison"]] == ["active", "previous", "base model"]
    assert summary["comparison"][2]["run"]["id"] == run["id"]
    assert summary["questions"]["builtin"] == 50 and summary["settings"]["margin_points"] >= 0


async def test_progress_streams_the_run_until_it_ends(api):
    expert = await new_expert(api)
    run = await started(api, expert["id"], adapter_id="base")
    seen = []
    async with api.stream("GET", f"/api/benchmark/{run['run_id']}/progress") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                seen.append(json.loads(line[5:]))
    assert seen[-1]["status"] == "succeeded" and seen[-1]["id"] == run["run_id"]
    assert [v["answered"] for v in seen] == sorted(v["answered"] for v in seen)
    assert (await api.get("/api/benchmark/no-such-run/progress")).status_code == 404


async def test_a_run_can_be_cancelled(api):
    expert = await new_expert(api)
    run = await started(api, expert["id"], adapter_id="base", size="full")
    response = await api.delete(f"/api/benchmark/{run['run_id']}")
    assert response.status_code == 200, response.text
    assert (await ended(api, run["run_id"]))["status"] == "cancelled"
    assert (await api.delete("/api/benchmark/no-such-run")).status_code == 404


async def test_runs_are_refused_with_a_sentence(api):
    expert = await new_expert(api)
    custom = await api.post("/api/benchmark", json={"expert_id": expert["id"], "suite": "custom"})
    assert custom.status_code == 400 and "no custom questions" in custom.json()["detail"]
    unknown = await api.post("/api/benchmark", json={"expert_id": "nosuchexpert"})
    assert unknown.status_code == 404, unknown.text
    version = await api.post(
        "/api/benchmark", json={"expert_id": expert["id"], "adapter_id": "nope"}
    )
    assert version.status_code == 404 and "nope" in version.json()["detail"]
    size = await api.post("/api/benchmark", json={"expert_id": expert["id"], "size": "huge"})
    assert size.status_code == 400, size.text


async def test_custom_questions_are_added_listed_run_and_deleted(api):
    expert = await new_expert(api)
    params = {"expert_id": expert["id"]}
    body = [
        {"id": "capital", "question": "Capital of France?", "reference": "Paris", "domain": "geo"},
        {"question": "2 + 2?", "reference": "4", "kind": "value"},
    ]
    added = await api.post("/api/benchmark/questions", params=params, json=body)
    assert added.status_code == 201, added.text
    assert {q["source"] for q in added.json()} == {"custom"} and len(added.json()) == 2
    listed = (
        await api.get("/api/benchmark/questions", params={**params, "suite": "custom"})
    ).json()
    assert {q["question"] for q in listed} == {"Capital of France?", "2 + 2?"}
    every = (await api.get("/api/benchmark/questions", params=params)).json()
    assert len(every) == 52

    run = await finished_run(api, expert["id"], suite="custom")
    assert run["total"] == 2

    gone = await api.delete("/api/benchmark/questions/capital", params=params)
    assert gone.status_code == 204, gone.text
    left = (await api.get("/api/benchmark/questions", params={**params, "suite": "custom"})).json()
    assert [q["question"] for q in left] == ["2 + 2?"]
    again = await api.delete("/api/benchmark/questions/capital", params=params)
    assert again.status_code == 404, again.text
    empty = await api.post("/api/benchmark/questions", params=params, json=[{"question": "?"}])
    assert empty.status_code == 400 and "reference" in empty.json()["detail"]


async def test_a_jsonl_import_names_each_bad_line_and_adds_nothing(api):
    expert = await new_expert(api)
    params = {"expert_id": expert["id"]}
    lines = [
        '{"question": "Boiling point of water?", "reference": "100 °C", "domain": "science"}',
        "",
        '{"question": "No answer here"}',
        "not json at all",
    ]
    bad = await api.post("/api/benchmark/questions/import", params=params,
                         content="\n".join(lines).encode(), headers={"Content-Type": JSONL})  # fmt: skip
    assert bad.status_code == 400, bad.text
    detail = bad.json()["detail"]
    assert "line 3" in detail and "reference" in detail and "line 4" in detail
    assert "line 1" not in detail
    assert (
        await api.get("/api/benchmark/questions", params={**params, "suite": "custom"})
    ).json() == []

    good = await api.post("/api/benchmark/questions/import", params=params,
                          content=lines[0].encode(), headers={"Content-Type": JSONL})  # fmt: skip
    assert good.status_code == 201, good.text
    assert [q["domain"] for q in good.json()] == ["science"]
    plain = await api.post("/api/benchmark/questions/import", params=params,
                           content=lines[0].encode(), headers={"Content-Type": "text/plain"})  # fmt: skip
    assert plain.status_code == 415, plain.text


async def test_the_export_holds_the_same_numbers_as_json_and_csv(api):
    expert = await new_expert(api)
    runs = [await finished_run(api, expert["id"]) for _ in range(2)]
    params = {"expert_id": expert["id"]}
    as_json = await api.get("/api/benchmark/export", params={**params, "format": "json"})
    as_csv = await api.get("/api/benchmark/export", params={**params, "format": "csv"})
    assert as_json.status_code == 200 and as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = as_json.json()
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["id"] for r in rows] == [r["id"] for r in table] == [r["id"] for r in runs]
    assert list(table[0]) == list(rows[0])
    assert "domain:mathematics" in rows[0] and "composite_score" in rows[0]
    for record, line in zip(rows, table, strict=True):
        for key, value in record.items():
            if isinstance(value, bool):
                assert line[key] == str(value).lower(), key
            elif isinstance(value, int | float):
                assert float(line[key]) == value, key
            else:
                assert line[key] == ("" if value is None else value), key


async def test_settings_are_read_and_changed_and_a_bad_cron_is_named(api):
    expert = await new_expert(api)
    params = {"expert_id": expert["id"]}
    assert (await api.get("/api/benchmark/settings", params=params)).json()["schedule"] == "off"
    changed = await api.put("/api/benchmark/settings", params=params,
                            json={"schedule": "0 3 * * *", "margin_points": 5})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert changed.json()["schedule"] == "0 3 * * *" and changed.json()["margin_points"] == 5
    bad = await api.put("/api/benchmark/settings", params=params, json={"schedule": "every day"})
    assert bad.status_code == 400, bad.text
    assert "schedule" in bad.json()["detail"] and "every day" in bad.json()["detail"]
    assert (await api.get("/api/benchmark/settings", params=params)).json()[
        "schedule"
    ] == "0 3 * * *"


async def test_a_diagnosis_without_the_experts_own_questions_says_what_is_needed(api):
    expert = await new_expert(api)
    none = await api.get("/api/benchmark/diagnosis", params={"expert_id": expert["id"]})
    assert none.status_code == 200 and none.json()["status"] == "none"
    refused = await api.post("/api/benchmark/diagnose", json={"expert_id": expert["id"]})
    assert refused.status_code == 400, refused.text
    assert "generate its question set" in refused.json()["detail"]
    generated = await api.post(
        "/api/benchmark/questions/generate", params={"expert_id": expert["id"]}
    )
    assert (
        generated.status_code == 400 and "no ready training dataset" in generated.json()["detail"]
    )


async def test_rescoring_a_run_at_the_newest_scorer_is_a_conflict(api):
    expert = await new_expert(api)
    run = await finished_run(api, expert["id"])
    response = await api.post(f"/api/benchmark/{run['id']}/rescore")
    assert response.status_code == 409 and "newest" in response.json()["detail"]


async def test_unknown_ids_are_404s(api):
    for url in ("/api/benchmark/nope", "/api/benchmark/nope/results"):
        response = await api.get(url)
        assert response.status_code == 404 and response.json()["error"] == "not_found", url
    for url in ("/api/benchmark", "/api/benchmark/summary", "/api/benchmark/questions",
                "/api/benchmark/export", "/api/benchmark/settings", "/api/benchmark/diagnosis"):  # fmt: skip
        response = await api.get(url, params={"expert_id": "nosuchexpert"})
        assert response.status_code == 404, (url, response.text)
