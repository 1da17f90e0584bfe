"""`simtune projections status|rebuild`: maintenance of the read models."""

from __future__ import annotations

import typer

from cli.client import CliError, client_from, command
from cli.projections.follow import rebuild as rebuild_and_follow
from cli.projections.views import status_table
from cli.render import console, say

app = typer.Typer(help="Maintenance of the read models.", no_args_is_help=True)


@command(app, "status")
def status(ctx: typer.Context) -> None:
    """List each projection's checkpoint, lag and state (exit status 1 if one is stuck)."""
    overview = client_from(ctx).get("/api/admin/projections")
    console.print(status_table(overview))
    silent = overview.get("not_answering") or []
    if silent:
        say(f"Not answering: {', '.join(silent)}.", "yellow")
    stuck = [p["name"] for p in overview["projections"] if p["state"] == "stuck"]
    if stuck:
        raise CliError(
            f"{', '.join(stuck)} {'is' if len(stuck) == 1 else 'are'} stuck; the detail above says"
            " at which event and why"
        )


@command(app, "rebuild")
def rebuild(
    ctx: typer.Context,
    service: str = typer.Argument(..., help="expert, ingest or knowledge"),
    timeout: float = typer.Option(3600.0, help="Seconds to follow the rebuild."),
) -> None:
    """Rebuild a service's read models from the event log; they keep serving meanwhile."""
    job = rebuild_and_follow(client_from(ctx), service, timeout)
    for p in job["projections"]:
        say(f"Rebuilt {p['name']} from {p['replayed']} events.")
