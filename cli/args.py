"""What several commands take, said once so that every group words it alike: the EXPERT
argument and the expert it names, a run's id, an input file, `--yes`, `--json`, `-o`, an API
key from the environment, and the checks of a choice that Typer cannot make (so that a typo is
one line naming the choices, not a usage box)."""

from __future__ import annotations

import os
from collections.abc import Callable

import typer
from rich.console import RenderableType

from cli.client import Client, CliError, client_from
from cli.render import print_list
from cli.resolve import resolve_expert

ExpertArg = typer.Argument(..., metavar="EXPERT", help="The expert's id or exact name.")
YesOption = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")
NewestOption = typer.Option(20, "--limit", min=1, max=200, help="How many, newest first.")
SinceOption = typer.Option(None, "--since", help="Only from this date or time (ISO).")
UntilOption = typer.Option(None, "--until", help="Only before this date or time (ISO).")
JsonOption = typer.Option(False, "--json", help="As JSON, for scripts.")


def run_arg(what: str = "run") -> typer.models.ArgumentInfo:
    return typer.Argument(..., metavar="RUN_ID", help=f"The {what}'s id.")


def input_file(metavar: str, help: str) -> typer.models.ArgumentInfo:
    """A file that must exist and be readable, checked before the command runs."""
    return typer.Argument(
        ..., metavar=metavar, exists=True, dir_okay=False, readable=True, help=help
    )


def output_option(help: str) -> typer.models.OptionInfo:
    return typer.Option(None, "-o", "--output", help=help)


def one_of(option: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    """`value` if it is one of `allowed` (None, an option not given, passes)."""
    if value is not None and value not in allowed:
        raise CliError(f"{option} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def key_from_env(name: str) -> str:
    """The API key held by the environment variable `name` (a key is never typed, so it
    stays out of the shell's history)."""
    key = os.environ.get(name)
    if not key:
        raise CliError(f"the environment variable {name} is not set")
    return key


def confirmed(question: str, yes: bool, refused: str = "nothing was deleted") -> None:
    """Go on if `--yes` was given or the person says yes; stop with `refused` otherwise."""
    if not yes and not typer.confirm(question, default=False):
        raise CliError(refused)


def expert_of(ctx: typer.Context, ref: str, headers: dict | None = None) -> tuple[Client, dict]:
    """The gateway's client and the expert that `ref` (an id or exact name) names."""
    client = client_from(ctx, headers)
    return client, find_expert(client, ref)


def find_expert(client: Client, ref: str) -> dict:
    return resolve_expert(client.get("/api/experts"), ref)


def list_owned(
    ctx: typer.Context,
    ref: str,
    what: str,
    draw: Callable[..., RenderableType],
    hint: str,
    paged: bool = False,
) -> None:
    """The expert's `what` (`GET /api/experts/{id}/{what}`, every page of it when `paged`) as
    `draw` shows them under "What of NAME", or "NAME has no `what` yet." and `hint` when there
    are none."""
    client, found = expert_of(ctx, ref)
    path = f"/api/experts/{found['id']}/{what}"
    items = client.get_all(path) if paged else client.get(path)
    name = found["name"]
    print_list(items, draw, f"{name} has no {what} yet. {hint}", f"{what.capitalize()} of {name}")
