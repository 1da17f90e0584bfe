"""`simtune registry`: an expert's adapter versions — list, show, activate, roll back, tag,
delete, export, import and verify them — and the audit trail of what was done to them.

The audit trail names the signed-in person, as the gateway knows them from the API key;
ADAPTER arguments are looked up among the expert's own versions (`Chosen`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cli.args import (
    ExpertArg,
    SinceOption,
    UntilOption,
    YesOption,
    confirmed,
    expert_of,
    input_file,
    one_of,
    output_option,
)
from cli.client import CliError, command, write_out
from cli.registry.lookup import AdapterArg, Chosen, version_option
from cli.registry.transfer import download, upload
from cli.registry.views import adapter_details, adapters_table, audit_table, named, size
from cli.render import console, print_list, say

app = typer.Typer(
    help="An expert's adapter versions: list, activate, roll back, tag, export, import.",
    no_args_is_help=True,
)

AUDIT_FORMATS = ("table", "json", "csv")
ACTIONS = ("register", "import", "activate", "rollback", "tag", "delete", "verify")
OUTCOMES = ("succeeded", "refused")
TargetArg = typer.Argument(
    ..., metavar="ADAPTER|base", help="The version to answer with, or base (no adapter)."
)


@command(app, "list")
def list_adapters(
    ctx: typer.Context,
    expert: str = ExpertArg,
    as_json: bool = typer.Option(False, "--json", help="The versions as JSON, for scripts."),
) -> None:
    """List an expert's adapter versions, newest first; ● marks the one that answers."""
    chosen = Chosen(ctx, expert)
    empty = (
        f"{chosen.name} has no adapters yet; it answers with the base model. Train one"
        " (simtune trainer EXPERT) or import one (simtune registry import EXPERT FILE)."
    )
    print_list(chosen.adapters, adapters_table, empty, f"Adapters of {chosen.name}", as_json)


@command(app, "show")
def show(ctx: typer.Context, expert: str = ExpertArg, adapter: str = AdapterArg) -> None:
    """Show every field of a version: metrics, files with their sha256, problems."""
    console.print(adapter_details(Chosen(ctx, expert).adapter(adapter)))


@command(app, "activate")
def activate(ctx: typer.Context, expert: str = ExpertArg, adapter: str = TargetArg) -> None:
    """Make a version the one the expert answers with, from its next answer."""
    chosen = Chosen(ctx, expert)
    target = chosen.target(adapter)
    before = chosen.active()
    # The version read here goes back as `expected_version`: if someone else activated
    # something meanwhile, the gateway refuses (409) instead of "was" being wrong.
    after = chosen.client.request(
        "POST",
        f"/api/lora/{target}/activate",
        params={"expert_id": chosen.expert["id"]},
        json={"expected_version": before["version"]},
    )
    now, was = named(after["adapter_id"]), named(before["adapter_id"])
    if now == was:
        say(f"{chosen.name} already answers with {now}.")
        return
    say(f"{chosen.name} now answers with {now} (was {was}).")


@command(app, "rollback")
def rollback(
    ctx: typer.Context,
    expert: str = ExpertArg,
    to: str | None = version_option(
        "--to", "The version to go back to (default: the one active before the current one)."
    ),
) -> None:
    """Go back to the version active before the current one, or to the one given."""
    chosen = Chosen(ctx, expert)
    before = chosen.active()
    body: dict = {"expert_id": chosen.expert["id"], "expected_version": before["version"]}
    if to is not None:
        body["to_adapter_id"] = chosen.target(to)
    after = chosen.client.request("POST", "/api/lora/rollback", json=body)
    say(
        f"Rolled back: {chosen.name} now answers with {named(after['adapter_id'])}"
        f" (was {named(before['adapter_id'])})."
    )


@command(app, "tag")
def tag(
    ctx: typer.Context,
    expert: str = ExpertArg,
    adapter: str = AdapterArg,
    add: list[str] = typer.Option([], "--add", help="A tag to add, e.g. stable (repeat)."),
    remove: list[str] = typer.Option([], "--remove", help="A tag to remove (repeat)."),
) -> None:
    """Add or remove tags; `stable` protects a version from deletion."""
    if not add and not remove:
        raise CliError("say which tags to change: --add TAG and/or --remove TAG")
    chosen = Chosen(ctx, expert)
    found = chosen.adapter(adapter)
    body = {"add": add, "remove": remove}
    tags = chosen.client.request("POST", f"/api/lora/{found['id']}/tag", json=body)["tags"]
    say(f"Adapter {found['id']} is tagged: {', '.join(tags) or 'no tags'}.")


@command(app, "delete")
def delete(
    ctx: typer.Context, expert: str = ExpertArg, adapter: str = AdapterArg, yes: bool = YesOption
) -> None:
    """Delete a version and its files (not the active one, nor one tagged stable)."""
    chosen = Chosen(ctx, expert)
    found = chosen.adapter(adapter)
    confirmed(f"Delete adapter {found['id']} of {chosen.name} ({size(found['size_bytes'])})?", yes)
    chosen.client.request("DELETE", f"/api/lora/{found['id']}")
    say(f"Deleted adapter {found['id']} of {chosen.name}.")


@command(app, "export")
def export(
    ctx: typer.Context,
    expert: str = ExpertArg,
    adapter: str = AdapterArg,
    output: Path | None = output_option("The file to write (default: ADAPTER_ID.tar.gz here)."),
) -> None:
    """Download a version as a .tar.gz: its files and a manifest.json, to import elsewhere."""
    chosen = Chosen(ctx, expert)
    found = chosen.adapter(adapter)
    target = output or Path(f"{found['id']}.tar.gz")
    written = download(chosen.client, f"/api/lora/{found['id']}/export", target)
    say(f"Wrote {target} ({size(written)}).")


@command(app, "import")
def import_adapter(
    ctx: typer.Context,
    expert: str = ExpertArg,
    archive: Path = input_file(
        "FILE.tar.gz", "A .tar.gz of a PEFT adapter folder (as `simtune registry export` makes it)."
    ),
) -> None:
    """Register an adapter archive as a new version of the expert (not activated)."""
    client, found = expert_of(ctx, expert)
    imported = upload(client, found["id"], archive)
    adapter_id = imported["id"]
    if imported["duplicate"]:
        say(f"{found['name']} already has these files as adapter {adapter_id}.")
    else:
        say(f"Imported {archive.name} as adapter {adapter_id} of {found['name']}.")
    if imported["skipped"]:
        say(f"Skipped (not part of an adapter): {', '.join(imported['skipped'])}.")
    if not imported["valid"]:
        problems = "; ".join(imported["problems"]) or "it is invalid"
        say(f"It cannot be activated: {problems}.", "red")


@command(app, "audit")
def audit(
    ctx: typer.Context,
    expert: str = ExpertArg,
    action: str | None = typer.Option(
        None, "--action", help=f"Only this action: {', '.join(ACTIONS)}."
    ),
    outcome: str | None = typer.Option(None, "--outcome", help="succeeded or refused."),
    since: str | None = SinceOption,
    until: str | None = UntilOption,
    format: str = typer.Option("table", "--format", help="table, json or csv."),
    output: Path | None = output_option("Write the json or csv to this file."),
) -> None:
    """The audit trail of an expert's adapters: who did what, when, and what was refused."""
    one_of("--format", format, AUDIT_FORMATS)
    one_of("--action", action, ACTIONS)
    one_of("--outcome", outcome, OUTCOMES)
    if output is not None and format == "table":
        raise CliError("--output writes json or csv: add --format json or --format csv")
    client, found = expert_of(ctx, expert)
    params = {"expert_id": found["id"], "action": action, "outcome": outcome}
    params |= {"since": since, "until": until, "format": "csv" if format == "csv" else "json"}
    response = client.send(
        "GET", "/api/lora/audit", params={k: v for k, v in params.items() if v is not None}
    )
    if format == "table":
        empty = f"Nothing on the audit trail of {found['name']} matches."
        print_list(response.json(), audit_table, empty, f"Audit trail of {found['name']}")
        return
    text = response.text if format == "csv" else json.dumps(response.json(), indent=2) + "\n"
    if write_out(text, output):
        say(f"Wrote the audit trail of {found['name']} ({format}) to {output}.")


@command(app, "verify")
def verify(ctx: typer.Context, expert: str = ExpertArg, adapter: str = AdapterArg) -> None:
    """Hash a version's files again; exit status 1 if they no longer match."""
    chosen = Chosen(ctx, expert)
    found = chosen.adapter(adapter)
    checked = chosen.client.request("POST", f"/api/lora/{found['id']}/verify")
    if not checked["valid"]:
        raise CliError(f"adapter {found['id']} is invalid: {'; '.join(checked['problems'])}")
    say(f"Adapter {found['id']} is valid: its files match their sha256.")
