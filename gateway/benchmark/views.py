"""How the console shows benchmarks: a run's status, progress and metrics in plain words, the
trend against the previous run and the base model (saying "within noise" when it is), the
comparison table, the alerts, each question's result, the diagnosis, and the chart data
(the composite over time, one series per version; the latest run's domains for the radar).

Pure functions over the benchmark contracts' views; the templates only loop over what they
return, and the charts' script only draws what `chart_data` gives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts.benchmark import Alert, BenchmarkView, BenchSummary, Question, QuestionResult
from gateway.http.pages import RunShown, when, worded

SUITES = {
    "builtin": "Built-in questions",
    "expert": "Its own questions (from its documents)",
    "custom": "Your custom questions",
}
TRIGGERS = {
    "api": "through the API",
    "manual": "by you",
    "after_training": "after a fine-tune",
    "schedule": "on schedule",
    "diagnosis": "by a diagnosis",
}
SETUPS = {
    "closed_book": "Closed book (the base model alone)",
    "retrieval": "With its documents",
    "adapter": "With its documents and the active adapter",
}
BASE_LABEL = "Base model"


def number(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "–" if value is None else f"{value:,.{digits}f}{unit}"


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def adapter_label(adapter_id: str | None) -> str:
    return adapter_id or BASE_LABEL


def trend(pct: float | None, within_noise: bool = False) -> str:
    """'+4.2%', '−1.0% (within noise)', or '–' when there is nothing to compare with."""
    if pct is None:
        return "–"
    sign = "+" if pct > 0 else ("−" if pct < 0 else "±")
    said = f"{sign}{abs(pct):.1f}%"
    return f"{said} (within noise)" if within_noise else said


@dataclass(frozen=True)
class Run(RunShown):
    """A run as the dashboard, the tables and its page show it."""

    view: BenchmarkView

    @property
    def adapter(self) -> str:
        return adapter_label(self.view.adapter_id)

    suite = worded("suite", SUITES)
    trigger = worded("trigger", TRIGGERS)

    @property
    def percent(self) -> int:
        return round(100 * self.view.progress)

    @property
    def where(self) -> str:
        v = self.view
        if v.status == "queued":
            return "Waiting for the model (benchmarks wait for people's questions)"
        if v.status == "running":
            return f"Asked {v.answered} of {v.total} questions"
        if v.status == "succeeded":
            return f"Scored {v.answered} questions"
        if v.status == "failed":
            return v.error or "The run failed"
        return f"Cancelled after {v.answered} of {v.total} questions"

    @property
    def composite(self) -> str:
        v = self.view
        if v.composite_score is None:
            return "–"
        if v.ci_low is None or v.ci_high is None:
            return number(v.composite_score)
        return f"{v.composite_score:.1f} ({v.ci_low:.1f}–{v.ci_high:.1f})"

    @property
    def vs_previous(self) -> str:
        return trend(self.view.vs_previous_pct, self.view.within_noise)

    @property
    def vs_baseline(self) -> str:
        return trend(self.view.vs_baseline_pct)

    @property
    def metric_rows(self) -> list[tuple[str, str]]:
        v = self.view
        rows = [
            ("Composite score (95% interval)", self.composite),
            ("Average quality", percent(v.avg_quality)),
            ("Response time", number(v.avg_response_ms, 0, " ms")),
            ("Tokens a second", number(v.tokens_per_s)),
            ("Cut off by the token limit", percent(v.early_termination_rate)),
            ("Against the previous run", self.vs_previous),
            ("Against the base model", self.vs_baseline),
        ]
        return rows + resource_rows(v)


def resource_rows(v: BenchmarkView) -> list[tuple[str, str]]:
    r = v.resources
    if r is None:
        return [("CPU, RAM, VRAM", "–")]
    return [
        ("CPU", number(r.cpu_percent, 0, "% of a core")),
        ("RAM (peak)", number(r.ram_mb, 0, " MB")),
        ("VRAM (peak)", "no GPU" if r.vram_mb is None else number(r.vram_mb, 0, " MB")),
    ]


def runs(views: list[BenchmarkView]) -> list[Run]:
    return [Run(v) for v in views]


@dataclass(frozen=True)
class Row:
    """A line of the comparison table: active, previous or base model, and its latest run."""

    label: str
    adapter_id: str | None
    run: Run | None

    @property
    def cells(self) -> list[str]:
        if self.run is None:
            return ["no run yet"] + ["–"] * 6
        v = self.run.view
        r = v.resources
        hardware = "–"
        if r is not None:
            vram = "" if r.vram_mb is None else f", VRAM {r.vram_mb:,.0f} MB"
            hardware = f"CPU {r.cpu_percent:.0f}%, RAM {r.ram_mb:,.0f} MB{vram}"
        return [
            self.run.composite,
            percent(v.avg_quality),
            number(v.avg_response_ms, 0, " ms"),
            number(v.tokens_per_s),
            percent(v.early_termination_rate),
            hardware,
            self.run.finished,
        ]


def comparison(summary: BenchSummary) -> list[Row]:
    return [
        Row(c.label.capitalize(), c.adapter_id, Run(c.run) if c.run else None)
        for c in summary.comparison
    ]


@dataclass(frozen=True)
class Notice:
    """An alert: a promotion held back, one made, or a regression (with its Roll back)."""

    alert: Alert

    @property
    def css(self) -> str:
        return {"regression": "error", "held_back": "warn", "promoted": "success"}.get(
            self.alert.kind, "info"
        )

    @property
    def title(self) -> str:
        return {
            "regression": "Scores went down",
            "held_back": "A new version was held back",
            "promoted": "A new version was activated",
        }.get(self.alert.kind, "")

    @property
    def at(self) -> str:
        return when(self.alert.at) if self.alert.at else ""


def notices(summary: BenchSummary) -> list[Notice]:
    return [Notice(a) for a in summary.alerts]


def epoch_ms(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp() * 1000
    except ValueError:
        return None


def chart_data(summary: BenchSummary) -> dict:
    """What benchmarks.js draws: the composite over time, one series per version (`{x: epoch
    ms, y: score}`, oldest first, ready for Chart.js without parsing), and the latest run's
    per-domain scores beside the base model's for the radar."""
    series: dict[str | None, list[dict]] = {}
    for p in summary.points:
        x = epoch_ms(p.finished_at)
        if x is not None and p.composite_score is not None:
            series.setdefault(p.adapter_id, []).append({"x": x, "y": p.composite_score})
    latest = summary.points[-1] if summary.points else None
    radar = []
    if latest is not None:
        radar.append({"label": f"Latest run ({adapter_label(latest.adapter_id)})",
                      "scores": latest.per_domain})  # fmt: skip
        base = next((c.run for c in summary.comparison if c.label == "base model"), None)
        if base is not None and base.id != latest.id and base.suite == latest.suite:
            radar.append({"label": BASE_LABEL, "scores": base.per_domain})
    domains = sorted({d for r in radar for d in r["scores"]})
    return {
        "series": [
            {"label": adapter_label(adapter), "points": points}
            for adapter, points in series.items()
        ],
        "radar": {
            "labels": domains,
            "datasets": [
                {
                    "label": r["label"],
                    "data": [round(100 * r["scores"].get(d, 0), 1) for d in domains],
                }
                for r in radar
            ],
        },
    }


@dataclass(frozen=True)
class Answer:
    """One question of a run and how its answer scored."""

    question: Question
    result: QuestionResult | None

    @property
    def score(self) -> str:
        return "not asked yet" if self.result is None else percent(self.result.score)

    @property
    def reasons(self) -> str:
        if self.result is None:
            return ""
        if self.result.error:
            return self.result.error
        return "; ".join(self.result.reasons)


def answers(questions: list[Question], results: list[QuestionResult]) -> list[Answer]:
    by_id = {r.question_id: r for r in results}
    return [Answer(q, by_id.get(q.id)) for q in questions]


def setup_label(setup: str) -> str:
    return SETUPS.get(setup, setup)
