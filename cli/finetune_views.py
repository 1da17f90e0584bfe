"""How `simtune train` words and draws runs: losses, durations, estimates, statuses, and the
tables of a run, an expert's runs and its settings."""

from __future__ import annotations

from decimal import Decimal

from rich.table import Table
from rich.text import Text

STYLE = {
    "queued": "yellow",
    "running": "cyan",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "red",
}


# ---- words -----------------------------------------------------------------------------------


def loss(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def clock(seconds: float | None) -> str:
    """12s, 3m 05s, 1h 20m."""
    if seconds is None:
        return "–"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def plain(number: float) -> str:
    """A range's end in plain digits: 128, 0.5, 0.00001, 2147483647."""
    if float(number).is_integer():
        return str(int(number))
    return format(Decimal(repr(float(number))), "f")


def estimate_line(estimate: dict) -> str:
    steps = f"{estimate['total_steps']} steps, {estimate['training_tokens']:,} training tokens"
    if estimate.get("cost_usd") is not None:
        budget = estimate.get("budget_usd")
        limit = f" of a ${budget:.2f} budget" if budget is not None else ""
        return (
            f"estimated cost ${estimate['cost_usd']:.2f} ({steps});"
            f" ${estimate['spent_usd']:.2f} spent so far{limit}"
        )
    if estimate.get("expected_seconds") is not None:
        return f"expected to take about {clock(estimate['expected_seconds'])} ({steps})"
    return steps


def status_text(status: str) -> Text:
    return Text(status, style=STYLE.get(status, ""))


# ---- tables ----------------------------------------------------------------------------------


def details(run: dict) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("Run", f"{run['number']} (id {run['id']})"),
        ("Status", status_text(run["status"])),
        ("Step", f"{run['step']} of {run['total_steps'] or '?'}"),
        ("Loss", loss(run["loss"])),
        ("Eval loss", loss(run["eval_loss"])),
        ("Backend", f"{run['backend']} ({run['base_model']})"),
        ("Dataset", run["dataset_id"]),
        ("Trigger", run["trigger"]),
    ]
    if run["status"] == "queued" and run.get("queue_position"):
        rows.append(("Queue", f"position {run['queue_position']}"))
    if run["status"] == "running" and run.get("eta_seconds") is not None:
        rows.append(("Time left", clock(run["eta_seconds"])))
    if run.get("adapter_id"):
        rows.append(("Adapter", run["adapter_id"]))
    if run.get("provider_model"):
        rows.append(("Provider model", run["provider_model"]))
    metrics = run.get("metrics") or {}
    for key, label in (
        ("train_loss", "Final loss"),
        ("val_loss", "Final eval loss"),
        ("best_val_loss", "Best eval loss"),
        ("perplexity", "Perplexity"),
    ):
        if metrics.get(key) is not None:
            rows.append((label, f"{metrics[key]:.4f}"))
    if metrics.get("seconds"):
        took = metrics["seconds"]
        took = f"{took:.1f}s" if took < 60 else clock(took)
        rows.append(("Took", f"{took} ({metrics.get('tokens_per_s', 0):.0f} tokens a second)"))
    if run.get("cost_usd") is not None:
        rows.append(("Cost", f"${run['cost_usd']:.2f}"))
    if run.get("error"):
        rows.append(("Error", Text(run["error"], style="red")))
    for label, value in rows:
        table.add_row(label, value if isinstance(value, Text) else Text(str(value)))
    return table


def runs_table(runs: list[dict], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name in (
        "Run",
        "ID",
        "Status",
        "Step",
        "Loss",
        "Eval loss",
        "Backend",
        "Adapter",
        "Queued",
    ):
        table.add_column(name, no_wrap=name in ("ID", "Status", "Queued"))
    for r in runs:
        status = status_text(r["status"])
        if r["status"] == "failed" and r.get("error"):
            status.append(f"\n{r['error']}", style="dim")
        table.add_row(
            str(r["number"]),
            r["id"],
            status,
            f"{r['step']}/{r['total_steps'] or '?'}",
            loss(r["loss"]),
            loss(r["eval_loss"]),
            r["backend"],
            r.get("adapter_id") or "–",
            r["queued_at"][:16].replace("T", " "),
        )
    return table


def settings_table(settings: dict) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    ranges = settings.get("ranges", {})
    for key, value in settings["config"].items():
        span = ranges.get(key)
        note = f"  ({plain(span[0])} to {plain(span[1])})" if span else ""
        table.add_row(key, Text(f"{'–' if value is None else value}{note}"))
    hosted = settings.get("hosted")
    if hosted:
        key = "a key is set" if hosted["key_set"] else "no key"
        table.add_row(
            "hosted",
            Text(
                f"{hosted['model']} at {hosted['base_url']},"
                f" ${hosted['price_per_million_tokens_usd']:g} per million tokens, {key}"
            ),
        )
    budget = settings.get("budget_usd")
    limit = "no limit" if budget is None else f"${budget:.2f}"
    table.add_row("spend", Text(f"${settings['spent_usd']:.2f} of {limit}"))
    table.add_row(
        "data",
        Text(
            f"{settings['dataset_examples']} examples in the newest dataset,"
            f" {settings['examples_since_last_run']} new since the last run"
            f" (a run needs {settings['min_examples']})"
        ),
    )
    schedule = settings["schedule"]
    table.add_row(
        "schedule",
        Text("off" if schedule == "off" else f"{schedule} (next {settings.get('next_tick')})"),
    )
    if settings.get("last_skip"):
        table.add_row("last skipped", Text(settings["last_skip"]))
    return table
