"""`simtune admin users list|create|delete`, run on the server machine: the accounts
context's commands sent over the embedded NATS (`cli.admin.server`), with no gateway and no
key, so that the first owner of an install can be made by a script.

`cli.admin.server` is imported when a command runs, not with the CLI: it loads the runtime
and the NATS client, which no other command needs."""

from __future__ import annotations

import json
import time

import msgspec
import typer

from cli.accounts.deleting import print_report
from cli.admin.views import users_table
from cli.args import JsonOption, YesOption, confirmed, one_of
from cli.client import CliError, command
from cli.render import print_list, say
from contracts.accounts import CreateUser, ForgetUser, GetErasure, ListUsers, RemoveUser
from contracts.erasure import INSTALL

app = typer.Typer(
    help="On the server machine, without the gateway or a key: who may sign in.",
    no_args_is_help=True,
)
users = typer.Typer(help="The people who can sign in: list, create, delete.", no_args_is_help=True)
app.add_typer(users, name="users")

ACTOR = "cli (server machine)"  # what the audit trail names as having done it
ROLES = ("owner", "member")
WAIT_S = 30.0  # how long a deletion waits for every service to erase its part
FORGET_TIMEOUT_S = 45.0  # deciding waits for the accounts views to show it


def send(message):
    from cli.admin import server

    return server.send(message)


def every_user() -> list[dict]:
    return [msgspec.structs.asdict(user) for user in send(ListUsers()).users]


@command(users, "list")
def list_users(as_json: bool = JsonOption) -> None:
    """List the people who can sign in, with their role."""
    found = every_user()
    empty = "No one can sign in yet: simtune admin users create EMAIL --role owner"
    print_list(found, users_table, empty, "Users", as_json)


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
    keep_data: bool = typer.Option(
        False, "--keep-data", help="Only end their account; keep what they made."
    ),
) -> None:
    """Delete a person and their data for good, as their own "delete my data" does (not the
    last owner); with --keep-data only their account ends. Asks for their email address
    to be typed, unless --yes."""
    wanted = ref.strip()
    found = [
        u
        for u in every_user()
        if u["user_id"] == wanted or u["email"].casefold() == wanted.casefold()
    ]
    if not found:
        raise CliError(f"there is no user with the email or id {wanted!r}")
    user = found[0]
    if keep_data:
        confirmed(f"Remove the user {user['email']} ({user['role']})?", yes)
        send(RemoveUser(user_id=user["user_id"], removed_by=ACTOR))
        say(f"Removed the user {user['email']}: their keys and sessions no longer work.")
        return
    if not yes:
        say(f"This deletes {user['email']} and everything they made, for good.", "red")
        typed = typer.prompt("Type their email address to confirm", default="", show_default=False)
        if typed.strip().casefold() != user["email"].casefold():
            raise CliError("that is not their email address; nothing was deleted")
    report = forget(user["user_id"], user["email"])
    say(f"Deleted the user {user['email']} and their data.")
    print_report(msgspec.to_builtins(report))


def forget(user_id: str, email: str):
    """ForgetUser as the install's operator (no person signed in), then wait up to
    `WAIT_S` for every service's erasure."""
    from cli.admin import server

    asked = ForgetUser(user_id=user_id, confirm=email, by_user=INSTALL, by=ACTOR)
    report = server.send(asked, timeout=FORGET_TIMEOUT_S)
    deadline = time.monotonic() + WAIT_S
    while not report.complete and time.monotonic() < deadline:
        time.sleep(0.5)
        report = send(GetErasure(user_id=user_id, by_user=INSTALL))
    return report
