"""The console's benchmark pages over HTTP, against the real gateway and benchmark service:
linked from the expert; the dashboard queues a run, follows it (its panel polls itself and
says when it ended) and can cancel one; with finished runs it holds the chart data block, the
formula, the comparison table and the exports; a regression alert carries its Roll back
button; a bad cron is named beside its field; the questions page adds, imports (naming a bad
line) and deletes custom questions and says in plain words why it cannot generate; the
diagnosis page says what is needed; a run's page lists each answer; nothing 500s.
"""

from __future__ import annotations

import html
import json
import re

import pytest

from contracts.benchmark import RegressionDetected
from services.benchmark.aggregates import BENCHES
from tests.integration.test_benchmark_api import ended, finished_run, started
from tests.integration.test_lora_api import imported, tiny_archives
from tests.support.api import HTML, csrf_token, new_expert, ui_post

pytestmark = pytest.mark.integration


async def page(api, url: str, status: int = 200) -> str:
    response = await api.get(url, headers=HTML)
    assert response.status_code == status, response.text
    return html.unescape(response.text)


def chart_block(text_: str) -> dict:
    match = re.search(r'<script type="application/json" id="bench-chart-data">(.*?)</script>',
                      text_, re.S)  # fmt: skip
    assert match, "no chart data block"
    return json.loads(match.group(1))


async def test_the_dashboard_is_linked_and_runs_a_quick_benchmark(api):
    expert = await new_expert(api, name="Benched")
    home = await page(api, f"/experts/{expert['id']}")
    assert f'href="/experts/{expert["id"]}/benchmark"' in home
    empty = await page(api, f"/experts/{expert['id']}/benchmark")
    assert "No runs yet" in empty and "Run quick" in empty and "composite = 100" in empty

    url = f"/ui/experts/{expert['id']}/benchmark/runs"
    queued = await ui_post(api, url, {"size": "quick", "suite": "builtin", "adapter": "base"},
                           htmx=True)  # fmt: skip
    assert queued.status_code == 200, queued.text
    run_id = re.search(r'href="/benchmark/([A-Za-z0-9_-]+)"', queued.text).group(1)
    assert 'hx-trigger="every 1s"' in queued.text and "bench-cancel" in queued.text

    await ended(api, run_id)
    panel = await api.get(f"/ui/benchmark/{run_id}/live", headers={"HX-Request": "true"})
    assert panel.status_code == 200 and panel.headers["hx-trigger"] == "benchmark-ended"
    assert "every 1s" not in panel.text and "Composite score" in panel.text

    dashboard = await page(api, f"/experts/{expert['id']}/benchmark")
    data = chart_block(dashboard)
    assert data["series"][0]["label"] == "Base model" and len(data["series"][0]["points"]) == 1
    assert set(data["radar"]["labels"]) == {
        "mathematics",
        "coding",
        "science",
        "reasoning",
        "creative",
    }
    assert "/static/vendor/chart.js/dist/chart.umd.min.js" in dashboard
    assert "composite = 100 × (0.70 × quality" in dashboard
    assert 'id="bench-compare"' in dashboard and "Base model" in dashboard
    assert f"/api/benchmark/export?expert_id={expert['id']}&format=csv" in dashboard
    summary = await api.get(
        f"/ui/experts/{expert['id']}/benchmark/summary", headers={"HX-Request": "true"}
    )
    assert summary.status_code == 200 and "bench-chart-data" in summary.text

    run = await page(api, f"/benchmark/{run_id}")
    assert run.count("<tr>") >= 11 and "Average quality" in run and "Scorer" in run


async def test_a_run_is_cancelled_from_the_dashboard(api):
    expert = await new_expert(api)
    run = await started(api, expert["id"], adapter_id="base", size="full")
    cancelled = await ui_post(api, f"/ui/benchmark/{run['run_id']}/cancel", htmx=True)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.headers["hx-trigger"] == "benchmark-ended"
    assert (await ended(api, run["run_id"]))["status"] == "cancelled"


async def test_filters_and_a_refused_run_are_said_in_plain_words(api):
    expert = await new_expert(api)
    bad = await page(api, f"/experts/{expert['id']}/benchmark?since=yesterday")
    assert "since must be a date" in bad and "Showing every run instead" in bad
    url = f"/ui/experts/{expert['id']}/benchmark/runs"
    refused = await ui_post(api, url, {"size": "quick", "suite": "custom"}, htmx=True)
    assert refused.status_code == 400 and "no custom questions" in html.unescape(refused.text)


async def test_a_regression_alert_has_its_roll_back_button(api, stack):
    expert = await new_expert(api)
    run = await finished_run(api, expert["id"])
    host = stack.hosts["benchmark"]
    noticed = RegressionDetected(expert_id=expert["id"], adapter_id="v2", run_id=run["id"],
                                 previous_run_id=run["id"], delta_points=-9.0, rollback_to="v1")  # fmt: skip
    outcome = await BENCHES.execute(host.store, "local", expert["id"], lambda state: noticed)
    await host.caught_up("BENCHMARK", outcome.seq)
    dashboard = await page(api, f"/experts/{expert['id']}/benchmark")
    assert "scored 9.0 points lower" in dashboard
    button = re.search(r"<button[^>]*data-rollback[^>]*>", dashboard, re.S).group(0)
    assert 'data-rollback="/api/lora/rollback"' in button
    assert f'data-expert-id="{expert["id"]}"' in button and 'data-to-adapter-id="v1"' in button


async def test_settings_save_and_a_bad_cron_is_named_beside_its_field(api):
    expert = await new_expert(api)
    url = f"/ui/experts/{expert['id']}/benchmark/settings"
    form = {"promote_only_if_better": "on", "margin_points": "3", "schedule": "every night"}
    bad = await ui_post(api, url, form, htmx=True)
    assert bad.status_code == 400, bad.text
    said = html.unescape(bad.text)
    assert 'id="err-schedule"' in said and "every night" in said and "cron" in said
    margin = await ui_post(api, url, {**form, "margin_points": "lots"}, htmx=True)
    assert margin.status_code == 400 and 'id="err-margin_points"' in margin.text
    saved = await ui_post(api, url, {**form, "schedule": "0 3 * * *"}, htmx=True)
    assert saved.status_code == 200 and "Saved." in saved.text
    settings = (await api.get("/api/benchmark/settings", params={"expert_id": expert["id"]})).json()
    assert settings == {"promote_only_if_better": True, "margin_points": 3.0, "after_training": False,
                        "schedule": "0 3 * * *", "judge": False}  # fmt: skip


async def test_the_questions_page_adds_imports_and_deletes(api):
    expert = await new_expert(api)
    listed = await page(api, f"/experts/{expert['id']}/benchmark/questions")
    assert "Built-in questions (50)" in listed and "Generate from my documents" in listed

    url = f"/ui/experts/{expert['id']}/benchmark/questions"
    form = {"question": "Who keeps the lighthouse?", "reference": "The keeper", "kind": "text",
            "domain": "lighthouses", "rubric": "Names the keeper."}  # fmt: skip
    added = await ui_post(api, url, form, htmx=True)
    assert added.status_code == 200, added.text
    text_ = html.unescape(added.text)
    assert "Your custom questions (1)" in text_ and "Who keeps the lighthouse?" in text_
    question_id = re.search(r'id="question-(c-[0-9a-f]+)"', text_).group(1)

    missing = await ui_post(api, url, {"question": "No reference"}, htmx=True)
    assert missing.status_code == 400 and 'id="error-add"' in missing.text
    assert "reference" in html.unescape(missing.text)

    token = await csrf_token(api)
    lines = b'{"question": "Q?", "reference": "A"}\n{"question": "bad"}\n'
    imported = await api.post(
        f"{url}/import", files={"file": ("set.jsonl", lines, "application/x-ndjson")},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )  # fmt: skip
    assert imported.status_code == 400, imported.text
    assert 'id="error-import"' in imported.text and "line 2" in imported.text

    deleted = await ui_post(api, f"{url}/{question_id}/delete", htmx=True)
    assert deleted.status_code == 200 and "Your custom questions (0)" in html.unescape(deleted.text)

    generated = await ui_post(api, f"{url}/generate", htmx=True)
    assert generated.status_code == 400, generated.text
    assert 'id="error-generate"' in generated.text
    assert "no ready training dataset" in html.unescape(generated.text)


async def test_the_diagnosis_page_says_what_is_needed(api):
    expert = await new_expert(api)
    shown = await page(api, f"/experts/{expert['id']}/benchmark/diagnosis")
    assert "No diagnosis yet" in shown and 'id="diagnose"' in shown
    refused = await ui_post(
        api, f"/ui/experts/{expert['id']}/benchmark/diagnose", {"size": "quick"}
    )
    assert refused.status_code == 400 and "<html" in refused.text
    assert "generate its question set" in html.unescape(refused.text)


@pytest.fixture(scope="module")
def archives(servers, tmp_path_factory) -> list[bytes]:
    return tiny_archives(servers.base_model, tmp_path_factory.mktemp("loras"))[:2]


async def test_the_compare_page_shows_each_versions_latest_score(api, archives):
    expert = await new_expert(api)
    a, b = [(await imported(api, expert["id"], archive))["id"] for archive in archives]
    run = await ended(api, (await started(api, expert["id"], adapter_id=a))["run_id"])
    assert run["status"] == "succeeded" and run["adapter_id"] == a, run
    compared = await page(api, f"/experts/{expert['id']}/registry/compare?a={a}&b={b}")
    row = re.search(r'<tr id="benchmark-row".*?</tr>', compared, re.S).group(0)
    assert f"{run['composite_score']:.1f} (" in row and "quick run of the builtin" in row
    assert "no benchmark yet" in row


async def test_unknown_ids_are_404_pages(api):
    for url in ("/benchmark/nope", "/experts/nope/benchmark", "/experts/nope/benchmark/questions",
                "/experts/nope/benchmark/diagnosis", "/ui/benchmark/nope/live"):  # fmt: skip
        response = await api.get(url, headers=HTML)
        assert response.status_code == 404, (url, response.status_code)
