"""How `simtune trainer` words and draws runs: durations, estimates, and the tables of a
run, an expert's runs and its settings."""

from __future__ import annotations

from decimal import Decimal

from rich.table import Table
from rich.text import Text

from cli.render import NONE, details, loss, status_text, table, when

FINAL_METRICS = (
    ("train_loss", "Final loss"),
    ("val_loss", "Final eval loss"),
    ("best_val_loss", "Best eval loss"),
    ("perplexity", "Perplexity"),
)


def clock(seconds: float | None) -> str:
    """12s, 3m 05s, 1h 20m."""
    if seconds is None:
        return NONE
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
            f" ${estimate['spent_usd']:.2f} spent or committed so far{limit}"
        )
    if estimate.get("expected_seconds") is not None:
        return f"expected to take about {clock(estimate['expected_seconds'])} ({steps})"
    return steps


def run_details(run: dict) -> Table:
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
    rows += [
        (label, f"{metrics[k]:.4f}") for k, label in FINAL_METRICS if metrics.get(k) is not None
    ]
    if metrics.get("seconds"):
        took = metrics["seconds"]
        took = f"{took:.1f}s" if took < 60 else clock(took)
        rows.append(("Took", f"{took} ({metrics.get('tokens_per_s', 0):.0f} tokens a second)"))
    if run.get("cost_usd") is not None:
        rows.append(("Cost", f"${run['cost_usd']:.2f}"))
    if run.get("error"):
        rows.append(("Error", Text(run["error"], style="red")))
    return details(rows)


def runs_table(runs: list[dict], title: str) -> Table:
    columns = ("Run", "ID", "Status", "Step", "Loss", "Eval loss", "Backend", "Adapter", "Queued")
    drawn = table(title, columns, no_wrap=("ID", "Status", "Queued"))
    for r in runs:
        status = status_text(r["status"])
        if r["status"] == "failed" and r.get("error"):
            status.append(f"\n{r['error']}", style="dim")
        drawn.add_row(
            str(r["number"]),
            r["id"],
            status,
            f"{r['step']}/{r['total_steps'] or '?'}",
            loss(r["loss"]),
            loss(r["eval_loss"]),
            r["backend"],
            r.get("adapter_id") or NONE,
            when(r["queued_at"]),
        )
    return drawn


def settings_table(settings: dict) -> Table:
    ranges = settings.get("ranges", {})
    rows = []
    for key, value in settings["config"].items():
        span = ranges.get(key)
        note = f"  ({plain(span[0])} to {plain(span[1])})" if span else ""
        rows.append((key, f"{NONE if value is None else value}{note}"))
    hosted = settings.get("hosted")
    if hosted:
        key = "a key is set" if hosted["key_set"] else "no key"
        rows.append(
            (
                "hosted",
                f"{hosted['model']} at {hosted['base_url']},"
                f" ${hosted['price_per_million_tokens_usd']:g} per million tokens, {key}",
            )
        )
    budget = settings.get("budget_usd")
    limit = "no limit" if budget is None else f"${budget:.2f}"
    rows.append(("spend", f"${settings['spent_usd']:.2f} of {limit}"))
    rows.append(
        (
            "data",
            f"{settings['dataset_examples']} examples in the newest dataset,"
            f" {settings['examples_since_last_run']} new since the last run"
            f" (a run needs {settings['min_examples']})",
        )
    )
    schedule = settings["schedule"]
    rows.append(
        (
            "schedule",
            "off" if schedule == "off" else f"{schedule} (next {settings.get('next_tick')})",
        )
    )
    if settings.get("last_skip"):
        rows.append(("last skipped", settings["last_skip"]))
    return details(rows)
