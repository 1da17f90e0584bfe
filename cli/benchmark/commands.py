"""`simtune benchmark`: measure whether an expert (with its active adapter, another version,
or the base model) answers well — start a run and follow it, list, show, cancel and export
runs, manage the questions, diagnose a weak expert, compare versions, and read or change the
settings that gate promotion and schedule runs.

ADAPTER takes the id or a unique prefix among the expert's own versions (as in `simtune
registry`), or `base` for the base model.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.args import ExpertArg, SinceOption, UntilOption, expert_of, one_of, output_option, run_arg
from cli.benchmark import questions
from cli.benchmark.follow import cancel as cancel_run
from cli.benchmark.follow import follow, interrupted
from cli.benchmark.questions import SUITES
from cli.benchmark.views import (
    SETUPS,
    composite,
    diagnosis_view,
    metrics,
    results_table,
    runs_table,
    settings_table,
    summary_view,
)
from cli.client import CliError, client_from, command, write_out
from cli.registry.lookup import adapter_ref, version_option
from cli.registry.views import named
from cli.render import console, print_list, say

app = typer.Typer(
    help="Benchmark an expert: scored runs, their comparison, questions, a diagnosis.",
    no_args_is_help=True,
)
app.add_typer(questions.app, name="questions")

SIZES = ("quick", "full")
EXPORT_FORMATS = ("json", "csv")

RunArg = run_arg("benchmark run")
SizeOption = typer.Option("quick", "--size", help="quick (10 questions) or full (50).")
FollowTimeout = typer.Option(3600.0, "--timeout", help="Seconds to follow before giving up.")


def followed(client, runs: dict[str, str], timeout: float) -> dict[str, dict] | None:
    """Follow the runs (by label) until each has ended; None when Ctrl-C left them going."""
    try:
        return follow(client, runs, timeout)
    except KeyboardInterrupt:
        interrupted(client, list(runs.values()))
        return None


def outcome(run: dict) -> None:
    """The ended run: its metrics, or one line saying why it did not finish (exit 1)."""
    if run["status"] == "failed":
        raise CliError(
            f"benchmark run {run['id']} failed: {run.get('error') or 'no reason was given'}"
        )
    if run["status"] == "cancelled":
        raise CliError(f"benchmark run {run['id']} was cancelled")
    say(f"Benchmark run {run['id']} succeeded: {composite(run)}.", "green")
    console.print(metrics(run))


@command(app, "run")
def run(
    ctx: typer.Context,
    expert: str = ExpertArg,
    suite: str = typer.Option(
        "builtin",
        "--suite",
        help="builtin (50 general questions), expert (from its documents) or custom (its own).",
    ),
    size: str = SizeOption,
    adapter: str | None = version_option(
        "--adapter", "The version to measure, or base (no adapter). Default: the active one."
    ),
    follow_run: bool = typer.Option(
        True, "--follow/--no-follow", help="Follow the run to its end, or just print its id."
    ),
    timeout: float = FollowTimeout,
) -> None:
    """Start a benchmark run and follow it until it ends; exit 1 if it failed."""
    body = {"suite": one_of("--suite", suite, SUITES), "size": one_of("--size", size, SIZES)}
    client, found = expert_of(ctx, expert)
    body["expert_id"] = found["id"]
    if adapter is not None:
        body["adapter_id"] = adapter_ref(client, found, adapter)
    queued = client.request("POST", "/api/benchmark", json=body)
    run_id = queued["run_id"]
    if not follow_run:
        typer.echo(run_id)
        return
    say(
        f"Queued benchmark run {run_id} of {found['name']} ({suite}, {size})"
        f" on {named(queued['adapter_id'])}."
    )
    ended = followed(client, {"Benchmark": run_id}, timeout)
    if ended is not None:
        outcome(ended["Benchmark"])


@command(app, "list")
def list_runs(
    ctx: typer.Context,
    expert: str = ExpertArg,
    adapter: str | None = version_option("--adapter", "Only runs of this version."),
    since: str | None = SinceOption,
    until: str | None = UntilOption,
) -> None:
    """List an expert's benchmark runs, newest first."""
    client, found = expert_of(ctx, expert)
    params = {"expert_id": found["id"], "since": since, "until": until}
    if adapter is not None:
        params["adapter_id"] = adapter_ref(client, found, adapter)
    runs = client.get("/api/benchmark", **{k: v for k, v in params.items() if v is not None})
    empty = f"No benchmark runs of {found['name']} match. Start one: simtune benchmark run EXPERT"
    print_list(runs, runs_table, empty, f"Benchmark runs of {found['name']}")


@command(app, "show")
def show(ctx: typer.Context, run_id: str = RunArg) -> None:
    """Show a run's metrics and how each question's answer scored."""
    client = client_from(ctx)
    console.print(metrics(client.get(f"/api/benchmark/{run_id}")))
    scored = client.get(f"/api/benchmark/{run_id}/results")
    if scored["results"]:
        console.print(results_table(scored))


@command(app, "cancel")
def cancel(ctx: typer.Context, run_id: str = RunArg) -> None:
    """Cancel a run that is queued or running (one that has ended stays as it is)."""
    after = cancel_run(client_from(ctx), run_id)
    if after["status"] == "cancelled":
        say(f"Cancelled benchmark run {run_id}.")
        return
    say(f"Benchmark run {run_id} had already {after['status']}; it stays so.")


@command(app, "export")
def export(
    ctx: typer.Context,
    expert: str = ExpertArg,
    format: str = typer.Option("json", "--format", help="json or csv."),
    output: Path | None = output_option("The file to write."),
) -> None:
    """Export an expert's runs and their metrics as JSON or CSV (to stdout, or -o FILE)."""
    one_of("--format", format, EXPORT_FORMATS)
    client, found = expert_of(ctx, expert)
    params = {"expert_id": found["id"], "format": format}
    text = client.send("GET", "/api/benchmark/export", params=params).text
    if write_out(text, output):
        say(f"Wrote the benchmark runs of {found['name']} ({format}) to {output}.")


@command(app, "diagnose")
def diagnose(
    ctx: typer.Context,
    expert: str = ExpertArg,
    size: str = SizeOption,
    timeout: float = FollowTimeout,
) -> None:
    """Why is it weak? Its own questions closed book, with documents, with the adapter."""
    body = {"size": one_of("--size", size, SIZES)}
    client, found = expert_of(ctx, expert)
    queued = client.request(
        "POST", "/api/benchmark/diagnose", json={**body, "expert_id": found["id"]}
    )
    runs = {SETUPS.get(s["setup"], s["setup"]): s["run_id"] for s in queued["steps"]}
    say(f"Diagnosing {found['name']} with {len(runs)} runs of its own questions.")
    ended = followed(client, runs, timeout)
    if ended is None:
        return
    console.print(diagnosis_view(client.get("/api/benchmark/diagnosis", expert_id=found["id"])))
    unfinished = [r for r in ended.values() if r["status"] != "succeeded"]
    if unfinished:
        first = unfinished[0]
        why = first.get("error") or first["status"]
        raise CliError(f"the diagnosis is incomplete: run {first['id']} {first['status']} ({why})")


@command(app, "summary")
def summary(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """Compare the active version with the previous one and the base model; list alerts."""
    client, found = expert_of(ctx, expert)
    shown = client.get("/api/benchmark/summary", expert_id=found["id"])
    console.print(summary_view(shown, f"Benchmarks of {found['name']}"))


@command(app, "settings")
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
    client, found = expert_of(ctx, expert)
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
        say(f"Saved the benchmark settings of {found['name']}.")
    console.print(settings_table(current))
