"""An expert's finished benchmark runs as a table, one row per run, for
`GET /api/benchmark/export` — the same rows as JSON (a list of objects) or CSV (a header row
first), so the two formats hold the same numbers.

Every row has the same columns: the run's facts and metrics, its resources, then one
`domain:<name>` column per domain any of the runs scored (empty where a run had none).
"""

from __future__ import annotations

from contracts.benchmark import BenchmarkView
from gateway.http.tables import as_csv as csv_text
from gateway.http.tables import inert

Cell = str | int | float | bool | None
FACTS = (
    "id", "expert_id", "adapter_id", "suite", "size", "trigger", "setup", "scorer_version",
    "queued_at", "started_at", "finished_at", "answered", "total", "composite_score", "ci_low",
    "ci_high", "avg_quality", "avg_response_ms", "tokens_per_s", "early_termination_rate",
    "vs_previous_pct", "vs_baseline_pct", "within_noise",
)  # fmt: skip
RESOURCES = ("cpu_percent", "ram_mb", "vram_mb")


def columns(runs: list[BenchmarkView]) -> list[str]:
    domains = sorted({d for run in runs for d in run.per_domain})
    return [*FACTS, *RESOURCES, *(f"domain:{d}" for d in domains)]


def row(run: BenchmarkView, names: list[str]) -> dict[str, Cell]:
    cells: dict[str, Cell] = {name: getattr(run, name) for name in FACTS}
    for name in RESOURCES:
        cells[name] = getattr(run.resources, name) if run.resources else None
    for name in names[len(FACTS) + len(RESOURCES) :]:
        cells[name] = run.per_domain.get(name.removeprefix("domain:"))
    return cells


def rows(runs: list[BenchmarkView]) -> list[dict[str, Cell]]:
    names = columns(runs)
    return [row(run, names) for run in runs]


def as_csv(runs: list[BenchmarkView]) -> str:
    """The rows as CSV: numbers as Python writes them (`repr`, so they read back equal),
    empty for none, and a text cell a spreadsheet would run as a formula starting with `'`."""
    names = columns(runs)
    cells = (row(run, names) for run in runs)
    return csv_text(names, ([shown(c[name]) for name in names] for c in cells))


def shown(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return inert(value)
