"""`simtune train`: fine-tune an expert and follow the run to its end; list an expert's
runs, show one, cancel one, and read or change the fine-tuning settings.

`simtune train EXPERT` is short for `simtune train run EXPERT`. A hosted run shows its
estimate and asks before it is queued (unless `--yes`). The run is followed over its
progress stream (`GET /api/finetune/{id}/progress`) with a progress bar; Ctrl-C asks whether
to cancel it. Success exits 0 with the adapter and its metrics; a failed or cancelled run
exits 1 with one line saying why.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from decimal import Decimal

import httpx
import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from cli.client import ApiError, Client, CliError, _api_error, client_from, friendly
from cli.render import console
from cli.resolve import resolve_expert

BACKENDS = ("auto", "peft", "unsloth", "axolotl", "openai")
ENDED = ("succeeded", "failed", "cancelled")
RECONNECTS = 5
STYLE = {
    "queued": "yellow",
    "running": "cyan",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "red",
}


class TrainGroup(TyperGroup):
    """`simtune train EXPERT ...` runs `simtune train run EXPERT ...`."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=TrainGroup,
    help="Fine-tune an expert: `simtune train EXPERT` starts a run and follows it"
    " (short for `simtune train run EXPERT`).",
    no_args_is_help=True,
)

ExpertArg = typer.Argument(..., metavar="EXPERT", help="The expert's id or exact name.")
RunArg = typer.Argument(..., metavar="RUN_ID", help="The run's id.")
SetOption = typer.Option(
    [], "--set", metavar="KEY=VALUE", help="A config value for this run, e.g. epochs=2 (repeat)."
)


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


# ---- config values ---------------------------------------------------------------------------


def value_of(text: str):
    """`4` -> 4, `2e-4` -> 0.0002, `none`/`` -> None, anything else the text itself."""
    if text.strip().lower() in ("", "none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def with_sets(config: dict, sets: list[str], backend: str | None) -> dict:
    changed = dict(config)
    for item in sets:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep:
            raise CliError(f"--set {item!r}: write it as KEY=VALUE, e.g. epochs=2")
        if key not in config:
            raise CliError(f"--set {key}: there is no such setting; they are: {', '.join(config)}")
        changed[key] = value_of(text)
    if backend is not None:
        if backend not in BACKENDS:
            raise CliError(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        changed["backend"] = backend
    return changed


# ---- following a run -------------------------------------------------------------------------


def progress_events(client: Client, run_id: str, deadline: float) -> Iterator[dict]:
    """The run's progress events until one says it ended; reconnects when the stream drops."""
    failures = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        try:
            with client._http.stream(
                "GET", f"/api/finetune/{run_id}/progress", timeout=httpx.Timeout(30.0, read=60.0)
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _api_error(response)
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    failures = 0
                    event = json.loads(line[5:])
                    yield event
                    if event["status"] in ENDED:
                        return
        except httpx.TransportError as exc:
            failures += 1
            if failures > RECONNECTS:
                raise CliError(
                    f"lost the connection to Simtune at {client.url}; the run goes on"
                    f" — see `simtune train status {run_id}`"
                ) from exc
        time.sleep(min(2.0, 0.2 * 2**failures))


def describe(event: dict) -> str:
    if event["status"] == "queued":
        position = event.get("queue_position")
        return f"waiting in the queue, position {position}" if position else "waiting in the queue"
    return event.get("stage") or event["status"]


def follow(client: Client, run_id: str, timeout: float) -> dict:
    """Show the run's progress until it ends; the run as it ended."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("step {task.completed}/{task.fields[total_steps]}"),
        TextColumn("{task.fields[losses]}"),
        TextColumn("{task.fields[eta]}"),
    )
    deadline = time.monotonic() + timeout
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting", total=None, total_steps="?", losses="", eta="")
        try:
            for event in progress_events(client, run_id, deadline):
                total = event["total_steps"] or None
                eta = event.get("eta_seconds") if event["status"] == "running" else None
                progress.update(
                    task,
                    description=describe(event),
                    completed=event["step"],
                    total=total,
                    total_steps=total or "?",
                    losses=f"loss {loss(event['loss'])}  eval loss {loss(event['eval_loss'])}",
                    eta="" if eta is None else f"ETA {clock(eta)}",
                )
        except TimeoutError:
            raise CliError(
                f"gave up waiting after {timeout:g} s; the run goes on"
                f" — see `simtune train status {run_id}`"
            ) from None
    return client.get(f"/api/finetune/{run_id}")


def interrupted(client: Client, run: dict) -> None:
    """Ctrl-C while following: cancel the run, or leave it going."""
    console.print()
    if typer.confirm(f"Cancel run {run['number']}?", default=False):
        client.request("DELETE", f"/api/finetune/{run['id']}")
        raise CliError(f"run {run['number']} was cancelled")
    console.print(
        Text(f"Run {run['number']} goes on. Follow it with: simtune train status {run['id']}")
    )
    raise typer.Exit(130)


def outcome(run: dict) -> None:
    if run["status"] == "failed":
        raise CliError(f"run {run['number']} failed: {run.get('error') or 'no reason was given'}")
    if run["status"] == "cancelled":
        raise CliError(f"run {run['number']} was cancelled")
    console.print(Text(f"Run {run['number']} succeeded: adapter {run['adapter_id']}", "green"))
    console.print(details(run))


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


# ---- commands --------------------------------------------------------------------------------


@app.command("run")
@friendly
def run(
    ctx: typer.Context,
    expert: str = ExpertArg,
    dataset: str | None = typer.Option(
        None, "--dataset", help="The dataset version's id (default: the newest ready one)."
    ),
    backend: str | None = typer.Option(
        None, "--backend", help="auto, peft, unsloth, axolotl or openai (hosted)."
    ),
    sets: list[str] = SetOption,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before a hosted run."),
    timeout: float = typer.Option(86_400.0, help="Seconds to follow the run."),
) -> None:
    """Start a fine-tuning run and follow it until it ends."""
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    config = None
    if sets or backend is not None:
        settings = client.get("/api/finetune/config", expert_id=found["id"])
        config = with_sets(settings["config"], sets, backend)
    body = {
        "expert_id": found["id"],
        "dataset_id": dataset,
        "config": config,
        "confirm": yes,
        "trigger": "manual",
    }
    try:
        started = client.request("POST", "/api/finetune", json=body)
    except ApiError as exc:
        if exc.code != "confirmation_required":
            raise
        console.print(Text(exc.detail[:1].upper() + exc.detail[1:] + "."))
        if not typer.confirm("Queue this hosted run?", default=False):
            raise CliError("nothing was queued") from None
        started = client.request("POST", "/api/finetune", json={**body, "confirm": True})
    console.print(
        Text(
            f"Queued run {started['number']} of {found['name']} (id {started['run_id']}) on"
            f" {started['backend']}: {estimate_line(started['estimate'])}."
        )
    )
    try:
        ended = follow(client, started["run_id"], timeout)
    except KeyboardInterrupt:
        interrupted(client, started)
        return
    outcome(ended)


@app.command("status")
@friendly
def status(ctx: typer.Context, run_id: str = RunArg) -> None:
    """Show a run: its status, step, losses, adapter or error."""
    console.print(details(client_from(ctx).get(f"/api/finetune/{run_id}")))


@app.command("list")
@friendly
def list_runs(
    ctx: typer.Context,
    expert: str = ExpertArg,
    limit: int = typer.Option(20, min=1, max=200, help="How many, newest first."),
) -> None:
    """List an expert's runs, newest first."""
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    runs = client.get("/api/finetune", expert_id=found["id"], limit=limit)["runs"]
    if not runs:
        console.print(
            Text(f"{found['name']} has no runs yet. Start one with: simtune train EXPERT")
        )
        return
    console.print(runs_table(runs, f"Fine-tuning runs of {found['name']}"))


@app.command("cancel")
@friendly
def cancel(ctx: typer.Context, run_id: str = RunArg) -> None:
    """Cancel a run that is queued or running."""
    run = client_from(ctx).request("DELETE", f"/api/finetune/{run_id}")
    console.print(Text(f"Run {run['number']} is {run['status']}."))


@app.command("config")
@friendly
def config(
    ctx: typer.Context,
    expert: str = ExpertArg,
    sets: list[str] = typer.Option(
        [], "--set", metavar="KEY=VALUE", help="Change a config value, e.g. lora_rank=32 (repeat)."
    ),
    backend: str | None = typer.Option(None, "--backend", help="The backend runs use."),
    budget: str | None = typer.Option(
        None, "--budget", help="The most hosted runs may cost in all, in USD ('none': no limit)."
    ),
    hosted_url: str | None = typer.Option(None, help="A hosted fine-tuning API's base URL."),
    hosted_model: str | None = typer.Option(None, help="The hosted base model to fine-tune."),
    price: float | None = typer.Option(
        None, min=0, help="What the hosted service charges per million training tokens (USD)."
    ),
    api_key_env: str | None = typer.Option(
        None, help="Name of an environment variable holding the hosted API key."
    ),
    no_hosted: bool = typer.Option(False, "--no-hosted", help="Forget the hosted service."),
) -> None:
    """Show an expert's fine-tuning settings, or change them."""
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    params = {"expert_id": found["id"]}
    settings = client.get("/api/finetune/config", **params)
    changing = sets or backend or budget is not None or no_hosted
    changing = changing or any(
        v is not None for v in (hosted_url, hosted_model, price, api_key_env)
    )
    if changing:
        body = {
            "config": with_sets(settings["config"], sets, backend),
            "hosted": None if no_hosted else hosted_body(settings, hosted_url, hosted_model, price),
            "budget_usd": settings["budget_usd"] if budget is None else budget_of(budget),
        }
        if api_key_env and not no_hosted:
            if not os.environ.get(api_key_env):
                raise CliError(f"the environment variable {api_key_env} is not set")
            if body["hosted"] is None:
                raise CliError("a hosted API key needs --hosted-url and --hosted-model too")
            body["hosted"]["api_key"] = os.environ[api_key_env]
        settings = client.request("PUT", "/api/finetune/config", params=params, json=body)
        console.print(Text(f"Saved the fine-tuning settings of {found['name']}."))
    console.print(settings_table(settings))


def hosted_body(settings: dict, url: str | None, model: str | None, price: float | None):
    now = settings.get("hosted") or {}
    hosted = {
        "base_url": url if url is not None else now.get("base_url"),
        "model": model if model is not None else now.get("model"),
        "price_per_million_tokens_usd": price
        if price is not None
        else now.get("price_per_million_tokens_usd", 0.0),
    }
    if not (hosted["base_url"] or hosted["model"]):
        return None
    if not (hosted["base_url"] and hosted["model"]):
        raise CliError("a hosted service needs both --hosted-url and --hosted-model")
    return hosted


def budget_of(text: str) -> float | None:
    if text.strip().lower() in ("none", ""):
        return None
    try:
        return float(text.strip().lstrip("$"))
    except ValueError:
        raise CliError(f"--budget must be a number of dollars or 'none', not {text!r}") from None
