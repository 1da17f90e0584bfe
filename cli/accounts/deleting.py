"""`simtune account delete`: delete your data for good (your account, experts, documents,
answers, datasets, adapters, runs), then print what each service removed.

The gateway asks for the account's email address as the confirmation (`DELETE /api/me`
with `{"confirm": …}`); the command asks for it to be typed, unless `--yes` comes with
`--confirm EMAIL` for a script. The key this command used stops working with the account,
so the credentials kept for the gateway are forgotten too."""

from __future__ import annotations

import typer

from cli import credentials
from cli.accounts.data import account
from cli.client import CliError, client_from, command, url_of
from cli.render import console, say, table, when

TIMEOUT_S = 90.0  # the gateway waits up to 30 s for every service, after deciding

ConfirmOption = typer.Option(
    None, "--confirm", metavar="EMAIL", help="Your email address, as the confirmation (scripts)."
)


def report_table(report: dict):
    """What each service removed: rows, objects, files and bytes; never content."""
    drawn = table(
        "Removed", ("Service", "Rows", "Objects", "Files", "Bytes", "Database log"),
        right=("Rows", "Objects", "Files", "Bytes"),
    )  # fmt: skip
    for part in report["parts"]:
        drawn.add_row(
            part["context"], str(part["rows"]), str(part["objects"]), str(part["files"]),
            str(part["bytes_freed"]), part["wal"],
        )  # fmt: skip
    return drawn


def print_report(report: dict) -> None:
    console.print(report_table(report))
    asked = when(report["requested_at"])
    if report["complete"]:
        say(f"Every service has erased its part (asked {asked}).", "green")
    else:
        pending = ", ".join(report["pending"])
        say(f"Still erasing: {pending}. It goes on without you (asked {asked}).", "yellow")


@command(account, "delete")
def delete(
    ctx: typer.Context,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask (needs --confirm EMAIL)."),
    confirm: str | None = ConfirmOption,
) -> None:
    """Delete your data for good: your account and everything you made. It cannot be undone;
    export it first (simtune account export -o me.zip) to keep a copy."""
    client = client_from(ctx)
    me = client.get("/api/auth/me")
    if yes and not confirm:
        raise CliError(
            "--yes needs --confirm EMAIL (your email address), so nothing is deleted by a typo"
        )
    if not yes:
        say(
            f"This deletes the data of {me['email']} for good: your account, experts, documents,"
            " answers and feedback, datasets, adapters, runs and benchmarks.", "red",
        )  # fmt: skip
        confirm = typer.prompt("Type your email address to confirm", default="", show_default=False)
    if (confirm or "").strip().casefold() != me["email"].casefold():
        raise CliError("that is not your email address; nothing was deleted")
    report = client.request(
        "DELETE", "/api/me", json={"confirm": confirm.strip()}, timeout=TIMEOUT_S
    )
    credentials.forget(url_of(ctx).rstrip("/"))
    say(f"Deleted the data of {me['email']}; the key kept here is forgotten.")
    print_report(report)
