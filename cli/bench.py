"""`simtune bench`: measure whether an expert (with its active adapter, another version, or the
base model) answers well — start a run and follow it, list, show, cancel and export runs,
manage the questions, diagnose a weak expert, compare versions, and read or change the
settings that gate promotion and schedule runs.

Choices (suite, size, format) are checked here so that a typo is one line naming the choices,
not a usage box. ADAPTER takes the id or a unique prefix among the expert's own versions (as
in `simtune adapters`), or `base` for the base model.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from cli import bench_questions
from cli.adapter_views import named
from cli.adapters import BASE, resolve_adapter
from cli.bench_follow import cancel as cancel_run
from cli.bench_follow import follow, interrupted
from cli.bench_questions import SUITES
from cli.bench_views import (
    SETUPS,
    composite,
    diagnosis_view,
    metrics,
    results_table,
    runs_table,
    settings_table,
    summary_view,
)
from cli.client import Client, CliError, client_from, friendly, write_out
from cli.render import console
from cli.resolve import resolve_expert

app = typer.Typer(
    help="Benchmark an expert: scored runs, their comparison, questions, a diagnosis.",
    no_args_is_help=True,
)
app.add_typer(bench_questions.app, name="questions")

SIZES = ("quick", "full")
EXPORT_FORMATS = ("json", "csv")

ExpertArg = typer.Argument(..., metavar="EXPERT", help="The expert's id or exact name.")
RunArg = typer.Argument(..., metavar="RUN_ID", help="The benchmark run's id.")
FollowTimeout = typer.Option(3600.0, "--timeout", help="Seconds to follow before giving up.")


def one_of(option: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise CliError(f"{option} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def adapter_ref(client: Client, expert: dict, ref: str) -> str:
    """`base`, or the id of the expert's own version that `ref` starts."""
    if ref.strip() == BASE:
        return BASE
    versions = client.get("/api/lora", expert_id=expert["id"])
    return resolve_adapter(versions, ref, expert["name"])["id"]


def outcome(run: dict) -> None:
    """The ended run: its metrics, or one line saying why it did not finish (exit 1)."""
    if run["status"] == "failed":
        raise CliError(
            f"benchmark run {run['id']} failed: {run.get('error') or 'no reason was given'}"
        )
    if run["status"] == "cancelled":
        raise CliError(f"benchmark run {run['id']} was cancelled")
    console.print(Text(f"Benchmark run {run['id']} succeeded: {composite(run)}.", style="green"))
    console.print(metrics(run))


# ---- runs ------------------------------------------------------------------------------------


@app.command("run")
@friendly
def run(
    ctx: typer.Context,
    expert: str = ExpertArg,
    suite: str = typer.Option(
        "builtin",
        "--suite",
        help="builtin (50 general questions), expert (from its documents) or custom (its own).",
    ),
    size: str = typer.Option("quick", "--size", help="quick (10 questions) or full (50)."),
    adapter: str | None = typer.Option(
        None,
        "--adapter",
        metavar="ADAPTER|base",
        help="The version to measure, or base (no adapter). Default: the active one.",
    ),
    follow_run: bool = typer.Option(
        True, "--follow/--no-follow", help="Follow the run to its end, or just print its id."
    ),
    timeout: float = FollowTimeout,
) -> None:
    """Start a benchmark run and follow it until it ends; exit 1 if it failed."""
    body = {"suite": one_of("--suite", suite, SUITES), "size": one_of("--size", size, SIZES)}
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    body["expert_id"] = found["id"]
    if adapter is not None:
        body["adapter_id"] = adapter_ref(client, found, adapter)
    queued = client.request("POST", "/api/benchmark", json=body)
    run_id = queued["run_id"]
    if not follow_run:
        typer.echo(run_id)
        return
    console.print(
        Text(
            f"Queued benchmark run {run_id} of {found['name']} ({suite}, {size})"
            f" on {named(queued['adapter_id'])}."
        )
    )
    try:
        ended = follow(client, {"Benchmark": run_id}, timeout)["Benchmark"]
    except KeyboardInterrupt:
        interrupted(client, [run_id])
        return
    outcome(ended)


@app.command("list")
@friendly
def list_runs(
    ctx: typer.Context,
    expert: str = ExpertArg,
    adapter: str | None = typer.Option(
        None, "--adapter", metavar="ADAPTER|base", help="Only runs of this version."
    ),
    since: str | None = typer.Option(None, "--since", help="Queued from this date or time (ISO)."),
    until: str | None = typer.Option(None, "--until", help="Queued before this date or time."),
) -> None:
    """List an expert's benchmark runs, newest first."""
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    params = {"expert_id": found["id"], "since": since, "until": until}
    if adapter is not None:
        params["adapter_id"] = adapter_ref(client, found, adapter)
    runs = client.get("/api/benchmark", **{k: v for k, v in params.items() if v is not None})
    if not runs:
        console.print(
            Text(f"No benchmark runs of {found['name']} match. Start one: simtune bench run EXPERT")
        )
        return
    console.print(runs_table(runs, f"Benchmark runs of {found['name']}"))


@app.command("show")
@friendly
def show(ctx: typer.Context, run_id: str = RunArg) -> None:
    """Show a run's metrics and how each question's answer scored."""
    client = client_from(ctx)
    shown = client.get(f"/api/benchmark/{run_id}")
    console.print(metrics(shown))
    scored = client.get(f"/api/benchmark/{run_id}/results")
    if scored["results"]:
        console.print(results_table(scored))


@app.command("cancel")
@friendly
def cancel(ctx: typer.Context, run_id: str = RunArg) -> None:
    """Cancel a run that is queued or running (one that has ended stays as it is)."""
    after = cancel_run(client_from(ctx), run_id)
    if after["status"] == "cancelled":
        console.print(Text(f"Cancelled benchmark run {run_id}."))
        return
    console.print(Text(f"Benchmark run {run_id} had already {after['status']}; it stays so."))


@app.command("export")
@friendly
def export(
    ctx: typer.Context,
    expert: str = ExpertArg,
    format: str = typer.Option("json", "--format", help="json or csv."),
    output: Path | None = typer.Option(None, "-o", "--output", help="The file to write."),
) -> None:
    """Export an expert's runs and their metrics as JSON or CSV (to stdout, or -o FILE)."""
    one_of("--format", format, EXPORT_FORMATS)
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    text = client.send(
        "GET", "/api/benchmark/export", params={"expert_id": found["id"], "format": format}
    ).text
    if write_out(text, output):
        console.print(Text(f"Wrote the benchmark runs of {found['name']} ({format}) to {output}."))


# ---- the expert's bench --------------------------------------------------------------------


@app.command("diagnose")
@friendly
def diagnose(
    ctx: typer.Context,
    expert: str = ExpertArg,
    size: str = typer.Option("quick", "--size", help="quick (10 questions) or full (50)."),
    timeout: float = FollowTimeout,
) -> None:
    """Why is it weak? Its own questions closed book, with documents, with the adapter."""
    body = {"size": one_of("--size", size, SIZES)}
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    queued = client.request(
        "POST", "/api/benchmark/diagnose", json={**body, "expert_id": found["id"]}
    )
    runs = {SETUPS.get(s["setup"], s["setup"]): s["run_id"] for s in queued["steps"]}
    console.print(Text(f"Diagnosing {found['name']} with {len(runs)} runs of its own questions."))
    try:
        ended = follow(client, runs, timeout)
    except KeyboardInterrupt:
        interrupted(client, list(runs.values()))
        return
    diagnosis = client.get("/api/benchmark/diagnosis", expert_id=found["id"])
    console.print(diagnosis_view(diagnosis))
    unfinished = [r for r in ended.values() if r["status"] != "succeeded"]
    if unfinished:
        first = unfinished[0]
        why = first.get("error") or first["status"]
        raise CliError(f"the diagnosis is incomplete: run {first['id']} {first['status']} ({why})")


@app.command("summary")
@friendly
def summary(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """Compare the active version with the previous one and the base model; list alerts."""
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    shown = client.get("/api/benchmark/summary", expert_id=found["id"])
    console.print(summary_view(shown, f"Benchmarks of {found['name']}"))


@app.command("settings")
@friendly
def settings(
    ctx: typer.Context,
    expert: str = ExpertArg,
    promote_only_if_better: bool | None = typer.Option(
        None,
        "--promote-only-if-better/--always-promote",
        help="Activate a new adapter only if it beats the active one by the margin.",
    ),
    margin: float | None = typer.Option(
        None, "--margin", help="Composite points a new adapter must win by (0 to 50)."
    ),
    after_training: bool | None = typer.Option(
        None, "--after-training/--no-after-training", help="A quick run after every fine-tune."
    ),
    schedule: str | None = typer.Option(
        None, "--schedule", metavar="CRON|off", help="Periodic runs, e.g. '0 3 * * *', or off."
    ),
) -> None:
    """Show an expert's benchmark settings, or change them."""
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    params = {"expert_id": found["id"]}
    current = client.get("/api/benchmark/settings", **params)
    changes = {
        "promote_only_if_better": promote_only_if_better,
        "margin_points": margin,
        "after_training": after_training,
        "schedule": schedule,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if changes:
        body = {**current, **changes}
        current = client.request("PUT", "/api/benchmark/settings", params=params, json=body)
        console.print(Text(f"Saved the benchmark settings of {found['name']}."))
    console.print(settings_table(current))
