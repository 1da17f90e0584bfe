"""Fine-tuning in a real browser (Chromium, as in test_console.py, whose fixtures these are):
from the expert's page open the dashboard, save small settings (Run now's estimate follows
them), press Run now and watch the loss chart get its points and the
run reach Done without reloading the page, then find the adapter in the recent runs — with
no console error and nothing refused by the Content-Security-Policy (the `page` fixture
fails the test otherwise).
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.test_chat import screenshot
from tests.e2e.test_console import expert, page  # noqa: F401  (fixtures)
from tests.integration.test_finetune_api import TINY, dataset

pytestmark = pytest.mark.e2e

RUN_TIMEOUT_MS = 120_000  # the training child loads the tiny model, then trains 8 steps
SETTINGS = {**TINY, "max_steps": 8, "epochs": 2}

# Every point count the chart was drawn with, and every status its run panel showed.
WATCH_CHART = """
window.__chart = {counts: [], statuses: []};
new MutationObserver(() => {
  const count = document.querySelectorAll("#finetune-current circle.chart-point").length;
  const counts = window.__chart.counts;
  if (counts[counts.length - 1] !== count) counts.push(count);
  const badge = document.querySelector("#finetune-current [data-field=status]");
  const statuses = window.__chart.statuses;
  if (badge && statuses[statuses.length - 1] !== badge.textContent) statuses.push(badge.textContent);
}).observe(document, {childList: true, subtree: true, characterData: true, attributes: true});
"""


async def test_run_now_draws_the_loss_chart_live_until_the_run_is_done(
    page: Page,  # noqa: F811
    expert: dict,  # noqa: F811
    api: httpx.AsyncClient,
):
    await dataset(api, expert["id"])
    await page.goto(f"/experts/{expert['id']}")
    await page.locator("main").get_by_role("link", name="Fine-tuning").click()
    await expect(page).to_have_url(re.compile(rf"/experts/{expert['id']}/trainer$"))
    await expect(page.get_by_text("No runs yet.").first).to_be_visible()
    await expect(page.locator("#range-lora_rank")).to_have_text("4 to 128")

    for key, value in SETTINGS.items():
        if key == "backend":
            await page.locator("#cfg-backend").select_option(value)
        else:
            await page.locator(f"#cfg-{key}").fill(str(value))
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_text("Saved. The next run uses these settings.")).to_be_visible()
    await expect(page.locator("#estimate")).to_contain_text("8 steps")

    await page.evaluate(WATCH_CHART)
    await page.evaluate("window.__marker = 'before the run'")
    await page.get_by_role("button", name="Run now").click()
    await expect(page.get_by_text("Run 1 is queued.")).to_be_visible()
    current = page.locator("#finetune-current")
    await expect(current.locator("figure.loss-chart[data-progress]")).to_have_count(1)

    await expect(current.locator("[data-field=status]")).to_have_text(
        "Done", timeout=RUN_TIMEOUT_MS
    )
    await expect(page.get_by_role("heading", name="Latest run")).to_be_visible()
    points = current.locator("circle.chart-point")
    await expect(points.first).to_be_visible()
    [run] = (await api.get("/api/finetune", params={"expert_id": expert["id"]})).json()["runs"]
    assert run["status"] == "succeeded" and run["trigger"] == "manual", run
    drawn = sum((p.get(k) is not None) for p in run["history"] for k in ("loss", "eval_loss"))
    assert drawn and await points.count() == drawn
    await expect(current.locator("[data-field=adapter]")).to_have_text(run["adapter_id"])
    row = page.locator(f"#finetune-run-{run['id']}")
    await expect(row).to_contain_text("Done")
    await expect(row).to_contain_text(run["adapter_id"])

    assert await page.evaluate("window.__marker") == "before the run"  # never reloaded
    watched = await page.evaluate("window.__chart")
    counts = [n for n in watched["counts"] if n]
    assert counts and counts[-1] == await points.count(), watched
    assert "Done" in watched["statuses"], watched
    await screenshot(page, "finetune-page.png")

    await row.get_by_role("link", name="Run 1").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Run 1 of")
    await expect(page.locator("#run-metrics")).to_contain_text("Training loss")
    await expect(page.locator("circle.chart-point").first).to_be_visible()
    await screenshot(page, "finetune-run-page.png")
