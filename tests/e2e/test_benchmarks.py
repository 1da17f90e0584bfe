"""The benchmark dashboard in a real browser (Chromium, as in test_console.py, whose fixtures
these are): with two finished quick runs of the base model, both charts (the composite over
time and the per-domain radar) are drawn — their canvases hold painted pixels — the
comparison table has the base model's row and the composite's formula is on the page, with
no console error and nothing refused by the Content-Security-Policy (the `page` fixture fails
the test otherwise).
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from contracts.benchmark import COMPOSITE_FORMULA
from tests.e2e.browser import until_true
from tests.e2e.test_chat import screenshot
from tests.e2e.test_console import expert, page  # noqa: F401  (fixtures)
from tests.support import benchmarks

pytestmark = pytest.mark.e2e

RUN_TIMEOUT_S = 120.0  # two quick runs of the tiny model, 8 tokens an answer, on a slow runner
CHARTS = ("bench-trend-chart", "bench-radar-chart")

# Per canvas: its size and how many of its pixels were painted (alpha > 0), read back from
# the canvas itself; null for a canvas that is missing.
PAINTED = """
(ids) => ids.map((id) => {
  const canvas = document.getElementById(id);
  if (!canvas) return null;
  const {width, height} = canvas;
  if (!width || !height) return {width, height, painted: 0};
  const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
  return {width, height, painted, chart: Boolean(window.Chart && window.Chart.getChart(canvas))};
})
"""
DRAWN = f"(ids) => ({PAINTED})(ids).every((c) => c && c.painted > 0)"


async def test_the_dashboard_draws_both_charts_of_two_finished_runs(
    page: Page,  # noqa: F811
    expert: dict,  # noqa: F811
    nc,
):
    for _ in range(2):  # one after the other, so the series has two points in order
        run_id = await benchmarks.start(nc, expert["id"], suite="builtin", size="quick",
                                        adapter_id="base")  # fmt: skip
        ended = await benchmarks.finished(nc, run_id, timeout=RUN_TIMEOUT_S)
        assert ended.status == "succeeded", ended

    await page.goto(f"/experts/{expert['id']}/benchmark")
    await expect(page.locator("#bench-chart-data")).to_have_count(1)
    await until_true(page, DRAWN, list(CHARTS))
    trend, radar = await page.evaluate(PAINTED, list(CHARTS))
    for name, canvas in (("trend", trend), ("radar", radar)):
        assert canvas["chart"] and canvas["painted"] > 100, (name, canvas)

    base = page.locator("#bench-compare tbody tr").filter(
        has=page.locator("th[scope=row]", has_text="Base model")
    )
    await expect(base).to_have_count(1)
    await expect(base.locator("td a[href^='/benchmark/']")).to_have_count(1)  # its latest run
    await expect(page.locator("#bench-formula")).to_have_text(COMPOSITE_FORMULA)
    await screenshot(page, "benchmarks-dashboard.png")
