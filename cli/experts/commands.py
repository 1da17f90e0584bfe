"""`simtune experts create|list|show|delete`."""

from __future__ import annotations

import typer

from cli.args import ExpertArg, YesOption, confirmed, expert_of
from cli.client import client_from, command
from cli.experts.views import expert_details, experts_table
from cli.render import console, print_list, say

app = typer.Typer(help="Create, list, show and delete experts.", no_args_is_help=True)


@command(app, "create")
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="What to call the expert."),
    domain: str = typer.Option("", help="What it knows about."),
    description: str = typer.Option("", help="Who it is and who it is for."),
    goal: list[str] = typer.Option([], "--goal", help="Something it should help with (repeat)."),
) -> None:
    """Create an expert."""
    body = {"name": name, "domain": domain, "description": description, "goals": goal}
    expert = client_from(ctx).request("POST", "/api/experts", json=body)
    say(f"Created expert {expert['name']} (id {expert['id']}).")


@command(app, "list")
def list_experts(ctx: typer.Context) -> None:
    """List experts."""
    experts = client_from(ctx).get("/api/experts")
    print_list(
        experts, experts_table, 'No experts yet. Create one with: simtune experts create "Name"'
    )


@command(app, "show")
def show(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """Show an expert's profile."""
    client, found = expert_of(ctx, expert)
    documents = client.get_all(f"/api/experts/{found['id']}/documents")
    console.print(expert_details(found, documents))


@command(app, "delete")
def delete(ctx: typer.Context, expert: str = ExpertArg, yes: bool = YesOption) -> None:
    """Delete an expert and everything it owns."""
    client, found = expert_of(ctx, expert)
    confirmed(f"Delete {found['name']} and all of its documents?", yes)
    client.request("DELETE", f"/api/experts/{found['id']}")
    say(f"Deleted expert {found['name']}.")
