"""The benchmark dashboard in a browser: how long `/experts/{id}/benchmark` takes to draw its
two charts for an expert with 1,000 finished runs, beside Chart.js alone drawing the same
points on a bare page. The PRD asks the charts to render in under a second with 1,000+
points.

* **The dashboard.** 1,000 finished quick runs are appended as events exactly as
  `bench_runs` does (its `seed_runs`: 3 built-in questions each, varied scores, the base
  model and three adapter ids) before the benchmark service starts; once its projection and
  reactors have caught up, the real gateway (uvicorn, in this process, as `answers` serves
  it) serves the page to Debian's headless Chromium, launched as the e2e tests launch it
  (`tests/e2e/test_console.py`: the same binary, arguments and 1280×900 viewport).
* **The baseline.** A bare static HTML page, served by a plain `http.server` on another
  port, holding the same chart data block (taken from the dashboard's own HTML, so the same
  1,000 points) and two canvases in frames of the dashboard's canvas sizes, drawn by the
  same `chart.umd.min.js` fetched from the same gateway, with the same chart options as
  `web/static/benchmarks.js` (mirrored below) — no template, no htmx, no server-side work.

Each load is timed in the page: an init script registers a Chart.js plugin as soon as the
UMD bundle defines `window.Chart`, noting `performance.now()` (milliseconds since the
navigation started) at each chart's first `afterRender`; a load's figure is the later of the
two. The pixels of both canvases are then read back to check each is painted. One warm-up
load of each page (it fills the browser cache), then 5 timed loads of each, alternating
which goes first; medians reported, with the navigation's response and DOMContentLoaded
times beside them. With `SIMTUNE_E2E_SCREENSHOTS=DIR` the dashboard is also saved as a
full-page screenshot there, as the e2e tests do.

`python -m benchmarks dashboard`.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.async_api import Page, async_playwright

from benchmarks.bench_runs import RUNS, seeded_expert, settings_for
from benchmarks.common import begin, embedded_stack, print_table, record, served_gateway
from tests.e2e.test_benchmarks import CHARTS, PAINTED
from tests.e2e.test_chat import screenshot
from tests.e2e.test_console import CHROMIUM, CHROMIUM_ARGS
from tests.support.accounts import session_cookie
from tests.support.inprocess import start_service

LOADS = 5
PRD_MS = 1000.0
TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1280, "height": 900}
DATA_BLOCK = re.compile(r'<script type="application/json" id="bench-chart-data">(.*?)</script>',
                        re.S)  # fmt: skip

# Before any script of the page: once the UMD bundle assigns `window.Chart`, register a
# plugin that notes when each chart first finished rendering (ms since navigation start).
TIMING = """
window.__drawnAt = {};
let chartJs;
Object.defineProperty(window, "Chart", {
  configurable: true,
  get() { return chartJs; },
  set(value) {
    chartJs = value;
    value.register({id: "benchTiming", afterRender(chart) {
      const id = chart.canvas.id;
      if (!(id in window.__drawnAt)) window.__drawnAt[id] = performance.now();
    }});
  },
});
"""
BOTH_DRAWN = "(ids) => ids.every((id) => id in window.__drawnAt)"
FIGURES = """
(ids) => {
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    drawn_ms: Math.max(...ids.map((id) => window.__drawnAt[id])),
    response_end_ms: nav.responseEnd,
    dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    html_bytes: nav.decodedBodySize,
  };
}
"""
CANVAS_SIZES = """
(ids) => Object.fromEntries(ids.map((id) => {
  const frame = document.getElementById(id).parentElement.getBoundingClientRect();
  return [id, {width: frame.width, height: frame.height}];
}))
"""

# The bare page: the same data block, the same two charts with benchmarks.js's options.
BARE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chart.js alone</title><link rel="icon" href="data:,">
<script src="{chart_js}" defer></script>
<script src="bare.js" defer></script>
<style>body {{ margin: 0; font-family: sans-serif; }}
.frame {{ position: relative; display: inline-block; vertical-align: top; }}</style>
</head><body>
<script type="application/json" id="bench-chart-data">{data}</script>
<div class="frame" style="width: {trend[width]}px; height: {trend[height]}px"><canvas id="bench-trend-chart"></canvas></div>
<div class="frame" style="width: {radar[width]}px; height: {radar[height]}px"><canvas id="bench-radar-chart"></canvas></div>
</body></html>
"""
BARE_JS = """
(function () {
  var COLORS = ["#2563eb", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d"];
  function color(i) { return COLORS[i % COLORS.length]; }
  function day(ms) { return new Date(ms).toISOString().slice(0, 10); }
  function draw() {
    var data = JSON.parse(document.getElementById("bench-chart-data").textContent);
    new Chart(document.getElementById("bench-trend-chart"), {
      type: "line",
      data: {datasets: data.series.map(function (s, i) {
        return {label: s.label, data: s.points, borderColor: color(i), backgroundColor: color(i),
          pointRadius: s.points.length > 200 ? 0 : 3, borderWidth: 2, tension: 0};
      })},
      options: {
        animation: false, parsing: false, normalized: true, spanGaps: true, maintainAspectRatio: false,
        interaction: {mode: "nearest", intersect: false},
        scales: {x: {type: "linear", ticks: {callback: day, maxTicksLimit: 8}},
                 y: {min: 0, max: 100, title: {display: true, text: "composite"}}},
        plugins: {decimation: {enabled: true, algorithm: "lttb", samples: 500},
                  tooltip: {callbacks: {title: function (items) {
                    return items.length ? new Date(items[0].parsed.x).toLocaleString() : "";
                  }}}}
      }
    });
    new Chart(document.getElementById("bench-radar-chart"), {
      type: "radar",
      data: {labels: data.radar.labels, datasets: data.radar.datasets.map(function (d, i) {
        return {label: d.label, data: d.data, borderColor: color(i), backgroundColor: color(i) + "33",
          pointRadius: 2};
      })},
      options: {animation: false, maintainAspectRatio: false, scales: {r: {min: 0, max: 100}}}
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *_args) -> None:
        pass


def serve_directory(directory: Path) -> tuple[str, ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


async def timed_load(page: Page, url: str, errors: list[str]) -> dict:
    """One navigation until both charts have rendered; fails on any page error or a canvas
    left blank."""
    started = time.perf_counter()
    await page.goto(url, wait_until="commit")
    await page.wait_for_function(BOTH_DRAWN, arg=list(CHARTS), polling=50, timeout=TIMEOUT_MS)
    figures = await page.evaluate(FIGURES, list(CHARTS))
    figures["wall_ms"] = (time.perf_counter() - started) * 1000
    canvases = await page.evaluate(PAINTED, list(CHARTS))
    blank = [id_ for id_, c in zip(CHARTS, canvases, strict=True) if not c or not c["painted"]]
    assert not blank, f"{url}: blank canvases {blank}: {canvases}"
    assert not errors, f"{url}: the page reported errors: {errors}"
    return figures


async def measure(base: str, expert_id: str, workdir: Path, cookie: dict[str, str]) -> dict:
    """`cookie`: the owner's console session, which the browser holds as a signed-in one."""
    dashboard = f"{base}/experts/{expert_id}/benchmark"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport=VIEWPORT)
            await context.add_cookies(
                [{"name": name, "value": value, "url": base} for name, value in cookie.items()]
            )
            await context.add_init_script(TIMING)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
            page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))

            warm = await timed_load(page, dashboard, errors)  # also fills the browser cache
            await screenshot(page, "benchmarks-dashboard-1000-runs.png")  # if asked for
            html = await (await page.request.get(dashboard)).text()
            [data] = DATA_BLOCK.findall(html)
            points = sum(len(s["points"]) for s in json.loads(data)["series"])
            assert points == RUNS, f"the dashboard's chart holds {points} points, not {RUNS}"
            sizes = await page.evaluate(CANVAS_SIZES, list(CHARTS))
            (workdir / "bare.js").write_text(BARE_JS)
            (workdir / "index.html").write_text(
                BARE.format(chart_js=f"{base}/static/vendor/chart.js/dist/chart.umd.min.js",
                            data=data, trend=sizes[CHARTS[0]], radar=sizes[CHARTS[1]])
            )  # fmt: skip
            bare_base, bare_server = serve_directory(workdir)
            try:
                bare = f"{bare_base}/index.html"
                bare_warm = await timed_load(page, bare, errors)
                loads: dict[str, list[dict]] = {"dashboard": [], "bare": []}
                for n in range(LOADS):
                    for side in ("dashboard", "bare") if n % 2 == 0 else ("bare", "dashboard"):
                        url = dashboard if side == "dashboard" else bare
                        loads[side].append(await timed_load(page, url, errors))
            finally:
                bare_server.shutdown()
        finally:
            await browser.close()
    medians = {
        side: {key: statistics.median(load[key] for load in got) for key in got[0]}
        for side, got in loads.items()
    }
    return {"points": points, "canvas_css_px": sizes, "loads": loads, "median": medians,
            "warm_up": {"dashboard": warm, "bare": bare_warm}}  # fmt: skip


async def run() -> None:
    begin()
    async with embedded_stack() as stack:
        settings = settings_for(stack)
        hosts = {c: await start_service(settings, c) for c in ("expert", "knowledge", "registry")}
        try:
            expert_id, timings = await seeded_expert(hosts, settings)
            async with served_gateway(settings) as gateway:
                cookie = await session_cookie(gateway.nc, gateway.owner.user_id)
                with tempfile.TemporaryDirectory(prefix="simtune-bench-bare-") as workdir:
                    figures = await measure(gateway.url, expert_id, Path(workdir), cookie)
            figures["append_s"] = timings["append_s"]
        finally:
            for host in reversed(list(hosts.values())):
                await host.stop()
    report(figures)


def report(figures: dict) -> None:
    d, b = figures["median"]["dashboard"], figures["median"]["bare"]
    print(f"\ndashboard: {figures['points']:,} finished runs on the chart ({RUNS:,} appended in"
          f" {figures['append_s']:.1f} s); headless Chromium {VIEWPORT['width']}×"
          f"{VIEWPORT['height']}, median of {LOADS} loads after one warm-up each")  # fmt: skip
    print_table(
        "navigation start → both charts rendered (ms, median)",
        ("page", "charts drawn", "HTML received", "DOMContentLoaded", "HTML KB", "÷ bare"),
        [
            ("dashboard: /experts/{id}/benchmark", d["drawn_ms"], d["response_end_ms"],
             d["dom_content_loaded_ms"], round(d["html_bytes"] / 1024),
             round(d["drawn_ms"] / b["drawn_ms"], 2)),
            ("bare page: Chart.js alone, same points and options", b["drawn_ms"],
             b["response_end_ms"], b["dom_content_loaded_ms"], round(b["html_bytes"] / 1024),
             1.0),
        ],
    )  # fmt: skip
    after_html = d["drawn_ms"] - d["response_end_ms"], b["drawn_ms"] - b["response_end_ms"]
    print(f"  (after the HTML arrived: dashboard {after_html[0]:.1f} ms, bare {after_html[1]:.1f}"
          f" ms; every load: dashboard {[round(x['drawn_ms']) for x in figures['loads']['dashboard']]},"
          f" bare {[round(x['drawn_ms']) for x in figures['loads']['bare']]};"
          f" PRD: under {PRD_MS:.0f} ms — {'met' if d['drawn_ms'] < PRD_MS else 'NOT met'})")  # fmt: skip
    cold, bare_cold = figures["warm_up"]["dashboard"], figures["warm_up"]["bare"]
    print(f"  (the first, untimed loads, a fresh gateway and browser: dashboard"
          f" {cold['drawn_ms']:.0f} ms with its HTML at {cold['response_end_ms']:.0f} ms, then"
          f" the bare page {bare_cold['drawn_ms']:.0f} ms)")  # fmt: skip
    record("dashboard", figures)


if __name__ == "__main__":
    asyncio.run(run())
