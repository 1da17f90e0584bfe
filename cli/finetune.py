"""`simtune train`: fine-tune an expert and follow the run to its end; list an expert's
runs, show one, cancel one, and read or change the fine-tuning settings.

`simtune train EXPERT` is short for `simtune train run EXPERT`. A hosted run shows its
estimate and asks before it is queued (unless `--yes`). The run is followed over its
progress stream (`GET /api/finetune/{id}/progress`) with a progress bar; Ctrl-C asks whether
to cancel it. Success exits 0 with the adapter and its metrics; a failed or cancelled run
exits 1 with one line saying why.
"""

from __future__ import annotations

import os

import typer
from rich.text import Text
from typer.core import TyperGroup

from cli.client import ApiError, CliError, client_from, friendly
from cli.finetune_follow import follow, interrupted, outcome
from cli.finetune_views import details, estimate_line, runs_table, settings_table
from cli.render import console
from cli.resolve import resolve_expert

BACKENDS = ("auto", "peft", "unsloth", "axolotl", "openai")


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
