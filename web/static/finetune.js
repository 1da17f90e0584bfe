// A fine-tuning run's loss chart (inline SVG) and its live numbers. Plain JavaScript, no
// build step. Each `figure.loss-chart` draws its `data-points` ({step, loss?, eval_loss?});
// with `data-progress` it follows the run's Server-Sent Events (the first event carries every
// point so far, each later one the new points), updates the run panel's [data-field] parts,
// and when the run ends fires `finetune-ended` on the body, which htmx answers by fetching
// the page's live part again.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var W = 600, H = 220, LEFT = 56, RIGHT = 14, TOP = 12, BOTTOM = 30;
  var LABELS = {
    queued: "Waiting", running: "Training", succeeded: "Done", failed: "Failed",
    cancelled: "Cancelled"
  };
  var ENDED = ["succeeded", "failed", "cancelled"];

  function node(name, attrs, parent, text) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { el.setAttribute(key, attrs[key]); });
    if (text !== undefined) el.textContent = text;
    if (parent) parent.appendChild(el);
    return el;
  }

  function number(value) { return value === null || value === undefined ? null : Number(value); }

  function draw(figure, points, total) {
    var box = figure.querySelector(".chart-box");
    if (!box) return;
    var values = [];
    var maxStep = Math.max(total || 0, 1);
    points.forEach(function (p) {
      if (number(p.loss) !== null) values.push(number(p.loss));
      if (number(p.eval_loss) !== null) values.push(number(p.eval_loss));
      maxStep = Math.max(maxStep, p.step);
    });
    var low = values.length ? Math.min.apply(null, values) : 0;
    var high = values.length ? Math.max.apply(null, values) : 1;
    if (high - low < 1e-9) { high += 0.5; low = Math.max(0, low - 0.5); }
    var pad = (high - low) * 0.05;
    high += pad; low = Math.max(0, low - pad);
    function x(step) { return (LEFT + (W - LEFT - RIGHT) * step / maxStep).toFixed(1); }
    function y(v) { return (TOP + (H - TOP - BOTTOM) * (high - v) / (high - low)).toFixed(1); }

    var svg = node("svg", {viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": "Loss by step: " + values.length + " points"});
    node("line", {x1: LEFT, y1: TOP, x2: LEFT, y2: H - BOTTOM, "class": "chart-axis"}, svg);
    node("line", {x1: LEFT, y1: H - BOTTOM, x2: W - RIGHT, y2: H - BOTTOM, "class": "chart-axis"}, svg);
    node("text", {x: LEFT - 6, y: TOP + 8, "text-anchor": "end", "class": "chart-label"}, svg,
      high.toFixed(3));
    node("text", {x: LEFT - 6, y: H - BOTTOM, "text-anchor": "end", "class": "chart-label"}, svg,
      low.toFixed(3));
    node("text", {x: LEFT, y: H - BOTTOM + 18, "class": "chart-label"}, svg, "0");
    node("text", {x: W - RIGHT, y: H - BOTTOM + 18, "text-anchor": "end", "class": "chart-label"},
      svg, "step " + maxStep);
    [["loss", "loss"], ["eval_loss", "eval"]].forEach(function (series) {
      var field = series[0], name = series[1];
      var shown = points.filter(function (p) { return number(p[field]) !== null; });
      if (!shown.length) return;
      var line = shown.map(function (p) { return x(p.step) + "," + y(number(p[field])); });
      node("polyline", {points: line.join(" "), "class": "chart-line " + name}, svg);
      shown.forEach(function (p) {
        node("circle", {cx: x(p.step), cy: y(number(p[field])), r: 3,
          "class": "chart-point " + name, "data-step": p.step}, svg);
      });
    });
    box.replaceChildren(svg);
  }

  function duration(seconds) {
    var minutes = Math.round(seconds / 60);
    if (minutes < 1) return "less than a minute";
    if (minutes < 60) return "about " + minutes + " minute" + (minutes === 1 ? "" : "s");
    var hours = Math.floor(minutes / 60), rest = minutes % 60;
    var more = rest ? " " + rest + " minute" + (rest === 1 ? "" : "s") : "";
    return "about " + hours + " hour" + (hours === 1 ? "" : "s") + more;
  }

  function lossText(value) { return number(value) === null ? "–" : number(value).toFixed(4); }

  function where(data, step) {
    if (data.status === "queued") {
      return data.queue_position ? "Waiting in the queue, position " + data.queue_position
        : "Waiting in the queue";
    }
    if (data.status === "running") return data.stage || step;
    if (data.status === "succeeded") return "Trained: the adapter is ready";
    if (data.status === "failed") return data.error || "The run failed";
    return "Cancelled";
  }

  function update(panel, data) {
    if (!panel) return;
    function set(name, text) {
      var el = panel.querySelector("[data-field=" + name + "]");
      if (el) el.textContent = text;
    }
    var step = data.total_steps ? "Step " + data.step + " of " + data.total_steps
      : (data.status === "queued" ? "Not started" : "Step " + data.step);
    panel.dataset.status = data.status;
    var badge = panel.querySelector("[data-field=status]");
    if (badge) {
      badge.textContent = LABELS[data.status] || data.status;
      badge.className = "badge status-" + data.status;
    }
    set("where", where(data, step));
    set("step", step);
    set("loss", lossText(data.loss));
    set("eval_loss", lossText(data.eval_loss));
    set("eta", data.status === "running" && number(data.eta_seconds) !== null
      ? duration(data.eta_seconds) : "–");
    var bar = panel.querySelector("[data-field=percent]");
    if (bar && data.total_steps) bar.value = Math.round(100 * data.step / data.total_steps);
  }

  function setup(figure) {
    if (figure.dataset.ready) return;
    figure.dataset.ready = "1";
    var points = [];
    try { points = JSON.parse(figure.dataset.points || "[]"); } catch (e) { points = []; }
    var panel = figure.closest(".run-panel");
    draw(figure, points, Number(figure.dataset.total || 0));
    var url = figure.dataset.progress;
    if (!url || !window.EventSource) return;
    var source = new EventSource(url);
    var fresh = true;  // after (re)connecting, the first event carries every point again
    source.onopen = function () { fresh = true; };
    source.onmessage = function (message) {
      if (!document.body.contains(figure)) { source.close(); return; }
      var data = JSON.parse(message.data);
      points = fresh ? data.points : points.concat(data.points);
      fresh = false;
      draw(figure, points, data.total_steps);
      update(panel, data);
      if (ENDED.indexOf(data.status) >= 0) {
        source.close();
        document.body.dispatchEvent(new CustomEvent("finetune-ended", {detail: data}));
      }
    };
    source.onerror = function () {
      if (!document.body.contains(figure)) source.close();  // else the browser reconnects
    };
  }

  function scan(root) {
    (root.querySelectorAll ? root.querySelectorAll("figure.loss-chart") : []).forEach(setup);
    if (root.matches && root.matches("figure.loss-chart")) setup(root);
  }

  document.addEventListener("htmx:load", function (event) { scan(event.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { scan(document); });
  } else {
    scan(document);
  }
})();
