"""`simtune adapters`: an expert's adapter versions — list, show, activate, roll back, tag,
delete, export, import and verify them — and the audit trail of what was done to them.

Every request says it comes from the CLI (`X-Simtune-Actor: cli`), so the audit trail names
who acted. ADAPTER arguments take the id or a unique prefix of it, looked up among the
expert's own versions only: a command can never touch another expert's adapter. `base`
stands for the base model (no adapter) wherever a version can be activated.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from cli.adapter_views import adapter_details, adapters_table, audit_table, named, size
from cli.client import Client, CliError, _api_error, client_from, friendly, write_out
from cli.render import console
from cli.resolve import resolve_expert

app = typer.Typer(
    help="An expert's adapter versions: list, activate, roll back, tag, export, import.",
    no_args_is_help=True,
)

ACTOR = {"X-Simtune-Actor": "cli"}
BASE = "base"  # the API's name for the base model in an activation or a rollback
AUDIT_FORMATS = ("table", "json", "csv")
ACTIONS = ("register", "import", "activate", "rollback", "tag", "delete", "verify")
OUTCOMES = ("succeeded", "refused")
CHUNK = 256 * 1024
# Archives can be large and the gateway checks an import before it answers.
TRANSFER_TIMEOUT = httpx.Timeout(60.0, read=600.0)

ExpertArg = typer.Argument(..., metavar="EXPERT", help="The expert's id or exact name.")
AdapterArg = typer.Argument(
    ..., metavar="ADAPTER", help="The adapter's id, or the start of it if no other id starts so."
)


# ---- finding the expert and the adapter --------------------------------------------------------


def registry_client(ctx: typer.Context) -> Client:
    """The gateway client with the actor header on every request, streamed ones included."""
    client = client_from(ctx)
    client._http.headers.update(ACTOR)
    return client


def resolve_adapter(adapters: list[dict], ref: str, expert_name: str) -> dict:
    """The version whose id is `ref`, else the only one whose id starts with it. Pure."""
    ref = ref.strip()
    if not ref:
        raise CliError("an adapter id (or the start of one) is needed")
    for adapter in adapters:
        if adapter["id"] == ref:
            return adapter
    matches = [a for a in adapters if a["id"].startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        ids = ", ".join(a["id"] for a in matches)
        raise CliError(f"{len(matches)} adapters of {expert_name} start with {ref!r}: {ids}")
    raise CliError(
        f"{expert_name} has no adapter whose id starts with {ref!r}"
        f" (see: simtune adapters list {expert_name!r})"
    )


class Chosen:
    """The expert a command is about and its versions, fetched once per command."""

    def __init__(self, client: Client, expert_ref: str) -> None:
        self.client = client
        self.expert = resolve_expert(client.get("/api/experts"), expert_ref)
        self.name: str = self.expert["name"]
        self.adapters: list[dict] = client.get("/api/lora", expert_id=self.expert["id"])

    def adapter(self, ref: str) -> dict:
        return resolve_adapter(self.adapters, ref, self.name)

    def target(self, ref: str) -> str:
        """`base`, or the id of the version `ref` names."""
        return BASE if ref.strip() == BASE else self.adapter(ref)["id"]

    def active(self) -> dict:
        return self.client.get("/api/lora/active", expert_id=self.expert["id"])


# ---- moving bytes with a progress bar ----------------------------------------------------------


def transfer_bar() -> Progress:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=console, transient=True)


def download(client: Client, path: str, target: Path) -> int:
    """Stream `path` into `target`, showing the bytes as they come; the bytes written. The
    file appears whole or not at all: it is written beside, then renamed."""
    partial = target.with_name(f"{target.name}.part")
    try:
        with (
            client._http.stream("GET", path, timeout=TRANSFER_TIMEOUT) as response,
            transfer_bar() as progress,
        ):
            if response.status_code >= 400:
                response.read()
                raise _api_error(response)
            total = int(response.headers.get("content-length") or 0) or None
            task = progress.add_task(f"Exporting {target.name}", total=total)
            with partial.open("wb") as out:
                for chunk in response.iter_bytes(CHUNK):
                    out.write(chunk)
                    progress.advance(task, len(chunk))
        partial.replace(target)
    except httpx.TransportError as exc:
        raise CliError(f"the download from Simtune at {client.url} failed: {exc}") from exc
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


class Counted:
    """A file whose reads move a progress bar: httpx reads the multipart body from it as it
    sends, so the bar follows the upload. Everything else (seek, tell, fileno, which httpx
    uses to size the body) is the file's own."""

    def __init__(self, file, progress: Progress, task) -> None:
        self._file, self._progress, self._task = file, progress, task

    def read(self, n: int = -1) -> bytes:
        chunk = self._file.read(n)
        self._progress.advance(self._task, len(chunk))
        return chunk

    def __getattr__(self, name: str):
        return getattr(self._file, name)


def upload(client: Client, expert_id: str, archive: Path) -> dict:
    """POST the archive to `/api/lora/import` with a progress bar; the gateway's reply."""
    try:
        with archive.open("rb") as file, transfer_bar() as progress:
            task = progress.add_task(f"Importing {archive.name}", total=archive.stat().st_size)
            part = (archive.name, Counted(file, progress, task), "application/gzip")
            return client.request(
                "POST",
                "/api/lora/import",
                data={"expert_id": expert_id},
                files={"file": part},
                timeout=TRANSFER_TIMEOUT,
            )
    except OSError as exc:
        raise CliError(f"cannot read {archive}: {exc.strerror}") from exc


# ---- commands ----------------------------------------------------------------------------------


@app.command("list")
@friendly
def list_adapters(
    ctx: typer.Context,
    expert: str = ExpertArg,
    as_json: bool = typer.Option(False, "--json", help="The versions as JSON, for scripts."),
) -> None:
    """List an expert's adapter versions, newest first; ● marks the one that answers."""
    chosen = Chosen(registry_client(ctx), expert)
    if as_json:
        typer.echo(json.dumps(chosen.adapters, indent=2))
        return
    if not chosen.adapters:
        console.print(
            Text(
                f"{chosen.name} has no adapters yet; it answers with the base model. Train one"
                " (simtune train EXPERT) or import one (simtune adapters import EXPERT FILE)."
            )
        )
        return
    console.print(adapters_table(chosen.adapters, f"Adapters of {chosen.name}"))


@app.command("show")
@friendly
def show(ctx: typer.Context, expert: str = ExpertArg, adapter: str = AdapterArg) -> None:
    """Show every field of a version: metrics, files with their sha256, problems."""
    console.print(adapter_details(Chosen(registry_client(ctx), expert).adapter(adapter)))


@app.command("activate")
@friendly
def activate(
    ctx: typer.Context,
    expert: str = ExpertArg,
    adapter: str = typer.Argument(
        ..., metavar="ADAPTER|base", help="The version to answer with, or base (no adapter)."
    ),
) -> None:
    """Make a version the one the expert answers with, from its next answer."""
    client = registry_client(ctx)
    chosen = Chosen(client, expert)
    target = chosen.target(adapter)
    before = chosen.active()
    # The version read here goes back as `expected_version`: if someone else activated
    # something meanwhile, the gateway refuses (409) instead of "was" being wrong.
    after = client.request(
        "POST",
        f"/api/lora/{target}/activate",
        params={"expert_id": chosen.expert["id"]},
        json={"expected_version": before["version"]},
    )
    now, was = named(after["adapter_id"]), named(before["adapter_id"])
    if now == was:
        console.print(Text(f"{chosen.name} already answers with {now}."))
        return
    console.print(Text(f"{chosen.name} now answers with {now} (was {was})."))


@app.command("rollback")
@friendly
def rollback(
    ctx: typer.Context,
    expert: str = ExpertArg,
    to: str | None = typer.Option(
        None,
        "--to",
        metavar="ADAPTER|base",
        help="The version to go back to (default: the one active before the current one).",
    ),
) -> None:
    """Go back to the version active before the current one, or to the one given."""
    client = registry_client(ctx)
    chosen = Chosen(client, expert)
    before = chosen.active()
    body: dict = {"expert_id": chosen.expert["id"], "expected_version": before["version"]}
    if to is not None:
        body["to_adapter_id"] = chosen.target(to)
    after = client.request("POST", "/api/lora/rollback", json=body)
    console.print(
        Text(
            f"Rolled back: {chosen.name} now answers with {named(after['adapter_id'])}"
            f" (was {named(before['adapter_id'])})."
        )
    )


@app.command("tag")
@friendly
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
    client = registry_client(ctx)
    found = Chosen(client, expert).adapter(adapter)
    body = {"add": add, "remove": remove}
    tags = client.request("POST", f"/api/lora/{found['id']}/tag", json=body)["tags"]
    console.print(Text(f"Adapter {found['id']} is tagged: {', '.join(tags) or 'no tags'}."))


@app.command("delete")
@friendly
def delete(
    ctx: typer.Context,
    expert: str = ExpertArg,
    adapter: str = AdapterArg,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a version and its files (not the active one, nor one tagged stable)."""
    client = registry_client(ctx)
    chosen = Chosen(client, expert)
    found = chosen.adapter(adapter)
    question = f"Delete adapter {found['id']} of {chosen.name} ({size(found['size_bytes'])})?"
    if not yes and not typer.confirm(question, default=False):
        raise CliError("nothing was deleted")
    client.request("DELETE", f"/api/lora/{found['id']}")
    console.print(Text(f"Deleted adapter {found['id']} of {chosen.name}."))


@app.command("export")
@friendly
def export(
    ctx: typer.Context,
    expert: str = ExpertArg,
    adapter: str = AdapterArg,
    output: Path | None = typer.Option(
        None, "-o", "--output", help="The file to write (default: ADAPTER_ID.tar.gz here)."
    ),
) -> None:
    """Download a version as a .tar.gz: its files and a manifest.json, to import elsewhere."""
    client = registry_client(ctx)
    found = Chosen(client, expert).adapter(adapter)
    target = output or Path(f"{found['id']}.tar.gz")
    written = download(client, f"/api/lora/{found['id']}/export", target)
    console.print(Text(f"Wrote {target} ({size(written)})."))


@app.command("import")
@friendly
def import_adapter(
    ctx: typer.Context,
    expert: str = ExpertArg,
    archive: Path = typer.Argument(
        ...,
        metavar="FILE.tar.gz",
        exists=True,
        dir_okay=False,
        readable=True,
        help="A .tar.gz of a PEFT adapter folder (as `simtune adapters export` makes it).",
    ),
) -> None:
    """Register an adapter archive as a new version of the expert (not activated)."""
    client = registry_client(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    imported = upload(client, found["id"], archive)
    adapter_id = imported["id"]
    if imported["duplicate"]:
        console.print(Text(f"{found['name']} already has these files as adapter {adapter_id}."))
    else:
        console.print(Text(f"Imported {archive.name} as adapter {adapter_id} of {found['name']}."))
    if imported["skipped"]:
        console.print(Text(f"Skipped (not part of an adapter): {', '.join(imported['skipped'])}."))
    if not imported["valid"]:
        problems = "; ".join(imported["problems"]) or "it is invalid"
        console.print(Text(f"It cannot be activated: {problems}.", style="red"))


@app.command("audit")
@friendly
def audit(
    ctx: typer.Context,
    expert: str = ExpertArg,
    action: str | None = typer.Option(
        None, "--action", help=f"Only this action: {', '.join(ACTIONS)}."
    ),
    outcome: str | None = typer.Option(None, "--outcome", help="succeeded or refused."),
    since: str | None = typer.Option(None, "--since", help="From this date or time (ISO)."),
    until: str | None = typer.Option(None, "--until", help="Before this date or time (ISO)."),
    format: str = typer.Option("table", "--format", help="table, json or csv."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write the json or csv to this file."
    ),
) -> None:
    """The audit trail of an expert's adapters: who did what, when, and what was refused."""
    if format not in AUDIT_FORMATS:
        raise CliError(f"--format must be one of {', '.join(AUDIT_FORMATS)}, not {format!r}")
    if action is not None and action not in ACTIONS:
        raise CliError(f"--action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if outcome is not None and outcome not in OUTCOMES:
        raise CliError(f"--outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if output is not None and format == "table":
        raise CliError("--output writes json or csv: add --format json or --format csv")
    client = registry_client(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    params = {"expert_id": found["id"], "action": action, "outcome": outcome}
    params |= {"since": since, "until": until, "format": "csv" if format == "csv" else "json"}
    response = client.send(
        "GET", "/api/lora/audit", params={k: v for k, v in params.items() if v is not None}
    )
    if format == "table":
        entries = response.json()
        if not entries:
            console.print(Text(f"Nothing on the audit trail of {found['name']} matches."))
            return
        console.print(audit_table(entries, f"Audit trail of {found['name']}"))
        return
    text = response.text if format == "csv" else json.dumps(response.json(), indent=2) + "\n"
    if write_out(text, output):
        console.print(Text(f"Wrote the audit trail of {found['name']} ({format}) to {output}."))


@app.command("verify")
@friendly
def verify(ctx: typer.Context, expert: str = ExpertArg, adapter: str = AdapterArg) -> None:
    """Hash a version's files again; exit status 1 if they no longer match."""
    client = registry_client(ctx)
    found = Chosen(client, expert).adapter(adapter)
    checked = client.request("POST", f"/api/lora/{found['id']}/verify")
    if not checked["valid"]:
        raise CliError(f"adapter {found['id']} is invalid: {'; '.join(checked['problems'])}")
    console.print(Text(f"Adapter {found['id']} is valid: its files match their sha256."))
