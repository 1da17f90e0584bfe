"""How `simtune benchmark` words and draws benchmarks: scores, percentages, the metrics of a run,
its per-domain and per-question tables, an expert's runs and questions, the comparison of
the active version with the previous one and the base model, and a diagnosis.

A score the gateway has not measured yet is `None`; it shows as "–", never as 0, so an
unfinished run is not read as a bad one."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cli.registry.views import named
from cli.render import NONE, details, status_text, table, when

SETUPS = {
    "closed_book": "Closed book",
    "retrieval": "With its documents",
    "adapter": "Documents + active adapter",
}


# ---- words -----------------------------------------------------------------------------------


def points(value: float | None) -> str:
    """A composite score, out of 100."""
    return NONE if value is None else f"{value:.1f}"


def share(value: float | None) -> str:
    """A 0–1 score or rate as a percentage."""
    return NONE if value is None else f"{value:.0%}"


def change(pct: float | None) -> str:
    """A difference in percent, signed: +3.2%, -1.0%."""
    return NONE if pct is None else f"{pct:+.1f}%"


def composite(run: dict) -> str:
    """The composite with its 95% confidence interval, the range a rerun would likely land in."""
    score = points(run.get("composite_score"))
    if run.get("ci_low") is None or run.get("ci_high") is None or score == NONE:
        return score
    return f"{score} / 100 (95% CI {run['ci_low']:.1f}–{run['ci_high']:.1f})"


def millis(value: float | None) -> str:
    return NONE if value is None else f"{value:.0f} ms"


def rate(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f}"


def versus(run: dict) -> list[tuple[str, str]]:
    """The comparisons a run carries; the one against the previous run says when the
    difference is within the noise of both runs' confidence intervals."""
    rows = []
    if run.get("vs_previous_pct") is not None:
        noise = " (within noise)" if run.get("within_noise") else ""
        rows.append(("vs previous run", change(run["vs_previous_pct"]) + noise))
    if run.get("vs_baseline_pct") is not None:
        rows.append(("vs base model", change(run["vs_baseline_pct"])))
    return rows


def excerpt(text: str | None, width: int = 60) -> str:
    """One line of at most `width` characters."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def run_label(run: dict) -> str:
    return f"{run['suite']}, {run['size']} ({run['total']} questions)"


# ---- one run ---------------------------------------------------------------------------------


def metrics(run: dict) -> Group:
    """Everything measured about a run, then its per-domain scores."""
    rows: list[tuple[str, str | Text]] = [
        ("Run", run["id"]),
        ("Status", status_text(run["status"])),
        ("Adapter", named(run.get("adapter_id"))),
        ("Questions", f"{run_label(run)}, {run['answered']} answered"),
        ("Composite", composite(run)),
        ("Avg quality", share(run.get("avg_quality"))),
        ("Response time", millis(run.get("avg_response_ms"))),
        ("Tokens/s", rate(run.get("tokens_per_s"))),
        ("Early termination", share(run.get("early_termination_rate"))),
        *versus(run),
    ]
    resources = run.get("resources") or {}
    if resources.get("ram_mb"):
        used = f"CPU {resources.get('cpu_percent', 0):.0f}%, RAM {resources['ram_mb']:.0f} MB"
        if resources.get("vram_mb") is not None:
            used += f", VRAM {resources['vram_mb']:.0f} MB"
        rows.append(("Resources", used))
    rows += [("Started", when(run.get("started_at"))), ("Finished", when(run.get("finished_at")))]
    if run.get("error"):
        rows.append(("Error", Text(run["error"], style="red")))
    if not run.get("per_domain"):
        return Group(details(rows))
    return Group(details(rows), Text(), domains_table(run["per_domain"]))


def domains_table(per_domain: dict[str, float]) -> Table:
    drawn = table("Per domain", ("Domain", "Quality"), right=("Quality",))
    for domain, score in sorted(per_domain.items()):
        drawn.add_row(Text(domain), share(score))
    return drawn


def results_table(results: dict) -> Table:
    """Each question asked, in the run's order, with how its answer scored."""
    asked = {q["id"]: q for q in results["questions"]}
    columns = ("ID", "Domain", "Question", "Answer", "Score", "Scorer", "Time")
    drawn = table("Questions", columns, no_wrap=("ID", "Score", "Time"))
    for r in results["results"]:
        question = asked.get(r["question_id"], {})
        answer = Text(excerpt(r.get("answer"), 50))
        if r.get("error"):
            answer = Text(r["error"], style="red")
        elif r.get("cut_off"):
            answer.append(" (cut off)", style="dim")
        drawn.add_row(
            r["question_id"],
            Text(r["domain"]),
            Text(excerpt(question.get("question"), 50)),
            answer,
            f"{r['score']:.2f}",
            Text(r["scorer"]),
            millis(r.get("response_ms")),
        )
    return drawn


# ---- many runs, the questions, the comparison --------------------------------------------------


def runs_table(runs: list[dict], title: str) -> Table:
    columns = ("ID", "Queued", "Adapter", "Suite", "Status", "Answered", "Composite")
    drawn = table(title, (*columns, "vs previous"), ("ID", "Queued", "Status"), ("vs previous",))
    for r in runs:
        status = status_text(r["status"])
        if r.get("error"):
            status.append(f"\n{r['error']}", style="dim")
        drawn.add_row(
            r["id"],
            when(r.get("queued_at")),
            named(r.get("adapter_id")),
            f"{r['suite']}, {r['size']}",
            status,
            f"{r['answered']}/{r['total']}",
            composite(r),
            change(r.get("vs_previous_pct")),
        )
    return drawn


def questions_table(questions: list[dict], title: str) -> Table:
    columns = ("ID", "Suite", "Domain", "Kind", "Question", "Reference")
    drawn = table(title, columns, no_wrap=("ID", "Suite", "Kind"))
    for q in questions:
        drawn.add_row(
            q["id"],
            q.get("source", "builtin"),
            Text(q["domain"]),
            q.get("kind", "text"),
            Text(excerpt(q["question"])),
            Text(excerpt(q["reference"], 40)),
        )
    return drawn


def summary_view(summary: dict, title: str) -> Group:
    """The active version beside the previous one and the base model, the latest alerts, and
    how many questions each suite holds."""
    columns = ("", "Adapter", "Composite", "Quality", "Response", "Tokens/s", "Run", "When")
    drawn = table(title, columns, no_wrap=("", "Run", "When"))
    for row in summary["comparison"]:
        run = row.get("run") or {}
        drawn.add_row(
            Text(row["label"], style="bold"),
            named(row.get("adapter_id")),
            composite(run) if run else "no run yet",
            share(run.get("avg_quality")),
            millis(run.get("avg_response_ms")),
            rate(run.get("tokens_per_s")),
            run.get("id", NONE),
            when(run.get("finished_at")),
        )
    parts: list = [drawn]
    counts = summary.get("questions") or {}
    if counts:
        parts.append(Text("Questions: " + ", ".join(f"{n} {s}" for s, n in counts.items())))
    alerts = summary.get("alerts") or []
    parts.append(Text("Alerts:" if alerts else "No alerts.", style="bold"))
    for alert in alerts:
        style = "red" if alert["kind"] == "regression" else ""
        line = Text(f"  {when(alert.get('at'))}  {alert['sentence']}", style=style)
        if alert.get("rollback_to") is not None:
            line.append(f" (roll back to {named(alert['rollback_to'])})")
        parts.append(line)
    return Group(*parts)


def settings_table(settings: dict) -> Table:
    promote = (
        f"only if better by {settings['margin_points']:g} composite points"
        if settings["promote_only_if_better"]
        else "always"
    )
    rows = [
        ("Promote a new adapter", promote),
        ("Run after training", "yes" if settings["after_training"] else "no"),
        ("Schedule", settings["schedule"]),
        ("Judge with the rubric", "yes" if settings.get("judge") else "no"),
    ]
    return details(rows)


def diagnosis_view(diagnosis: dict) -> Group:
    """The three setups side by side, what to do, and the numbers that say why."""
    drawn = table("Diagnosis", ("Setup", "Run", "Composite", "Quality"), no_wrap=("Run",))
    for step in diagnosis["steps"]:
        drawn.add_row(
            SETUPS.get(step["setup"], step["setup"]),
            step.get("run_id") or NONE,
            points(step.get("composite")),
            share(step.get("avg_quality")),
        )
    parts: list = [drawn]
    if diagnosis.get("verdict"):
        parts.append(Text(diagnosis["verdict"], style="bold"))
    parts += [Text(f"  • {line}") for line in diagnosis.get("advice", [])]
    return Group(*parts)
