// The benchmarks dashboard's charts and its Roll back button. Plain JavaScript, no build step;
// Chart.js comes from npm (/static/vendor/chart.js/dist/chart.umd.min.js).
//
// The page holds the chart data in a `<script type="application/json" id="bench-chart-data">`
// block: `series` (one per version, points {x: epoch ms, y: composite}, oldest first) for the
// line chart, `radar` (domain labels, one dataset per run) for the radar. Points are already
// in Chart.js's internal shape (`parsing: false`), animation is off and long series are
// decimated, so a thousand runs and more draw at once. When htmx swaps the summary in again
// (a run ended), the charts are drawn anew.
(function () {
  "use strict";
  var COLORS = ["#2563eb", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d"];
  var charts = {};

  function color(i) { return COLORS[i % COLORS.length]; }

  // A tick's label: the day, or the day and the time when the axis spans less than two days
  // (runs of one afternoon would otherwise all read the same date). `this` is the scale.
  function when(ms) {
    var iso = new Date(ms).toISOString();
    return this.max - this.min < 2 * 86400000 ? iso.slice(5, 16).replace("T", " ") : iso.slice(0, 10);
  }

  function replace(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    if (charts[id]) charts[id].destroy();
    charts[id] = new window.Chart(canvas, config);
  }

  function trend(series) {
    replace("bench-trend-chart", {
      type: "line",
      data: {
        datasets: series.map(function (s, i) {
          return {label: s.label, data: s.points, borderColor: color(i), backgroundColor: color(i),
            pointRadius: s.points.length > 200 ? 0 : 3, borderWidth: 2, tension: 0};
        })
      },
      options: {
        animation: false, parsing: false, normalized: true, spanGaps: true, maintainAspectRatio: false,
        interaction: {mode: "nearest", intersect: false},
        scales: {
          x: {type: "linear", ticks: {callback: when, maxTicksLimit: 8}},
          y: {min: 0, max: 100, title: {display: true, text: "composite"}}
        },
        plugins: {
          decimation: {enabled: true, algorithm: "lttb", samples: 500},
          tooltip: {callbacks: {title: function (items) {
            return items.length ? new Date(items[0].parsed.x).toLocaleString() : "";
          }}}
        }
      }
    });
  }

  function radar(data) {
    replace("bench-radar-chart", {
      type: "radar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (d, i) {
          return {label: d.label, data: d.data, borderColor: color(i), backgroundColor: color(i) + "33",
            pointRadius: 2};
        })
      },
      options: {animation: false, maintainAspectRatio: false, scales: {r: {min: 0, max: 100}}}
    });
  }

  function draw() {
    var block = document.getElementById("bench-chart-data");
    if (!block || !window.Chart) return;
    var data;
    try { data = JSON.parse(block.textContent); } catch (e) { return; }
    trend(data.series || []);
    radar(data.radar || {labels: [], datasets: []});
  }

  // A regression alert's one click: POST /api/lora/rollback {expert_id, to_adapter_id?}.
  function rollback(button) {
    var body = {expert_id: button.dataset.expertId, reason: "regression seen on the benchmarks"};
    if (button.dataset.toAdapterId) body.to_adapter_id = button.dataset.toAdapterId;
    var said = button.parentNode.querySelector(".rollback-result");
    button.disabled = true;
    fetch(button.dataset.rollback, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Simtune-Actor": "console"},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) throw new Error(answer.detail || "The rollback was refused.");
        return answer;
      });
    }).then(function (active) {
      if (said) said.textContent = "Rolled back: " + (active.adapter_id || "the base model") + " is active again.";
    }).catch(function (error) {
      button.disabled = false;
      if (said) said.textContent = error.message;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-rollback]");
    if (button) rollback(button);
  });
  document.addEventListener("htmx:load", function (event) {
    if (event.detail.elt.querySelector && event.detail.elt.querySelector("#bench-chart-data")) draw();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
