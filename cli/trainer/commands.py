"""`simtune trainer`: fine-tune an expert and follow the run to its end; list an expert's
runs, show one, cancel one, and read or change the fine-tuning settings.

`simtune trainer EXPERT` is short for `simtune trainer run EXPERT`. A hosted run shows its
estimate and asks before it is queued (unless `--yes`). The run is followed over its
progress stream (`GET /api/finetune/{id}/progress`) with a progress bar; Ctrl-C asks whether
to cancel it. Success exits 0 with the adapter and its metrics; a failed or cancelled run
exits 1 with one line saying why.
"""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from cli.args import ExpertArg, NewestOption, expert_of, key_from_env, run_arg
from cli.client import ApiError, CliError, client_from, command
from cli.render import console, print_list, say
from cli.trainer.follow import follow, interrupted, outcome
from cli.trainer.settings import budget_of, hosted_body, with_sets
from cli.trainer.views import estimate_line, run_details, runs_table, settings_table


class RunByDefault(TyperGroup):
    """`simtune trainer EXPERT ...` runs `simtune trainer run EXPERT ...`."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=RunByDefault,
    help="Fine-tune an expert: `simtune trainer EXPERT` starts a run and follows it"
    " (short for `simtune trainer run EXPERT`).",
    no_args_is_help=True,
)

RunArg = run_arg()
BackendOption = typer.Option(
    None, "--backend", help="auto, peft, unsloth, axolotl or openai (hosted)."
)


def queue(client, body: dict) -> dict:
    """POST the run; a hosted run's estimate is shown and queued only once the person agrees."""
    try:
        return client.request("POST", "/api/finetune", json=body)
    except ApiError as exc:
        if exc.code != "confirmation_required":
            raise
        say(exc.detail[:1].upper() + exc.detail[1:] + ".")
    if not typer.confirm("Queue this hosted run?", default=False):
        raise CliError("nothing was queued")
    return client.request("POST", "/api/finetune", json={**body, "confirm": True})


@command(app, "run")
def run(
    ctx: typer.Context,
    expert: str = ExpertArg,
    dataset: str | None = typer.Option(
        None, "--dataset", help="The dataset version's id (default: the newest ready one)."
    ),
    backend: str | None = BackendOption,
    sets: list[str] = typer.Option(
        [],
        "--set",
        metavar="KEY=VALUE",
        help="A config value for this run, e.g. epochs=2 (repeat).",
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before a hosted run."),
    timeout: float = typer.Option(86_400.0, help="Seconds to follow the run."),
) -> None:
    """Start a fine-tuning run and follow it until it ends."""
    client, found = expert_of(ctx, expert)
    config = None
    if sets or backend is not None:
        settings = client.get("/api/finetune/config", expert_id=found["id"])
        config = with_sets(settings["config"], sets, backend)
    body = {"expert_id": found["id"], "dataset_id": dataset, "config": config}
    started = queue(client, {**body, "confirm": yes, "trigger": "manual"})
    say(
        f"Queued run {started['number']} of {found['name']} (id {started['run_id']}) on"
        f" {started['backend']}: {estimate_line(started['estimate'])}."
    )
    try:
        ended = follow(client, started["run_id"], timeout)
    except KeyboardInterrupt:
        interrupted(client, started)
        return
    outcome(ended)


@command(app, "status")
def status(ctx: typer.Context, run_id: str = RunArg) -> None:
    """Show a run: its status, step, losses, adapter or error."""
    console.print(run_details(client_from(ctx).get(f"/api/finetune/{run_id}")))


@command(app, "list")
def list_runs(
    ctx: typer.Context,
    expert: str = ExpertArg,
    limit: int = NewestOption,
) -> None:
    """List an expert's runs, newest first."""
    client, found = expert_of(ctx, expert)
    runs = client.get("/api/finetune", expert_id=found["id"], limit=limit)["runs"]
    empty = f"{found['name']} has no runs yet. Start one with: simtune trainer EXPERT"
    print_list(runs, runs_table, empty, f"Fine-tuning runs of {found['name']}")


@command(app, "cancel")
def cancel(ctx: typer.Context, run_id: str = RunArg) -> None:
    """Cancel a run that is queued or running."""
    run = client_from(ctx).request("DELETE", f"/api/finetune/{run_id}")
    say(f"Run {run['number']} is {run['status']}.")


@command(app, "config")
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
    client, found = expert_of(ctx, expert)
    params = {"expert_id": found["id"]}
    settings = client.get("/api/finetune/config", **params)
    hosted_given = any(v is not None for v in (hosted_url, hosted_model, price, api_key_env))
    if sets or backend or budget is not None or no_hosted or hosted_given:
        body = {
            "config": with_sets(settings["config"], sets, backend),
            "hosted": None if no_hosted else hosted_body(settings, hosted_url, hosted_model, price),
            "budget_usd": settings["budget_usd"] if budget is None else budget_of(budget),
        }
        if api_key_env and not no_hosted:
            key = key_from_env(api_key_env)
            if body["hosted"] is None:
                raise CliError("a hosted API key needs --hosted-url and --hosted-model too")
            body["hosted"]["api_key"] = key
        settings = client.request("PUT", "/api/finetune/config", params=params, json=body)
        say(f"Saved the fine-tuning settings of {found['name']}.")
    console.print(settings_table(settings))
