"""`simtune admin users list|create|delete`, run on the server machine: the accounts
context's commands sent over the embedded NATS (`cli.admin.server`), with no gateway and no
key, so that the first owner of an install can be made by a script.

`cli.admin.server` is imported when a command runs, not with the CLI: it loads the runtime
and the NATS client, which no other command needs."""

from __future__ import annotations

import json

import msgspec
import typer

from cli.admin.views import users_table
from cli.args import YesOption, confirmed, one_of
from cli.client import CliError, command
from cli.render import print_list, say
from contracts.accounts import CreateUser, ListUsers, RemoveUser

app = typer.Typer(
    help="On the server machine, without the gateway or a key: who may sign in.",
    no_args_is_help=True,
)
users = typer.Typer(help="The people who can sign in: list, create, delete.", no_args_is_help=True)
app.add_typer(users, name="users")

ACTOR = "cli (server machine)"  # what the audit trail names as having done it
ROLES = ("owner", "member")
JsonOption = typer.Option(False, "--json", help="As JSON, for scripts.")


def send(message):
    from cli.admin import server

    return server.send(message)


def every_user() -> list[dict]:
    return [msgspec.structs.asdict(user) for user in send(ListUsers()).users]


@command(users, "list")
def list_users(as_json: bool = JsonOption) -> None:
    """List the people who can sign in, with their role."""
    found = every_user()
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    empty = "No one can sign in yet: simtune admin users create EMAIL --role owner"
    print_list(found, users_table, empty, "Users")


@command(users, "create")
def create_user(
    email: str = typer.Argument(..., metavar="EMAIL", help="Their email address."),
    role: str = typer.Option("member", "--role", help="owner (manages users) or member."),
    api_key: bool = typer.Option(
        False, "--api-key", help="Also issue them an API key, printed once."
    ),
    as_json: bool = typer.Option(
        False, "--json", help='Print {"user_id", "email", "role", "api_key"}, for scripts.'
    ),
) -> None:
    """Add a person who can sign in (the first owner of an install, say)."""
    one_of("--role", role, ROLES)
    made = send(CreateUser(email=email.strip(), role=role, api_key=api_key, created_by=ACTOR))
    if as_json:
        shown = {"user_id": made.user_id, "email": made.email, "role": made.role}
        typer.echo(json.dumps(shown | {"api_key": made.api_key}, indent=2))
        return
    say(f"Created the user {made.email} ({made.role}), user id {made.user_id}.")
    if made.api_key:
        say("Their API key (simtune login takes it):")
        typer.echo(made.api_key)
        say("Copy it now: it will not be shown again.", "yellow")


@command(users, "delete")
def delete_user(
    ref: str = typer.Argument(..., metavar="EMAIL|USER_ID", help="Their email or user id."),
    yes: bool = YesOption,
) -> None:
    """Remove a person: their keys and sessions stop working at once (not the last owner)."""
    wanted = ref.strip()
    found = [
        u
        for u in every_user()
        if u["user_id"] == wanted or u["email"].casefold() == wanted.casefold()
    ]
    if not found:
        raise CliError(f"there is no user with the email or id {wanted!r}")
    user = found[0]
    confirmed(f"Delete the user {user['email']} ({user['role']})?", yes)
    send(RemoveUser(user_id=user["user_id"], removed_by=ACTOR))
    say(f"Deleted the user {user['email']}: their keys and sessions no longer work.")
