"""`simtune account export -o me.zip` and `simtune account import me.zip`: your data out of one
Simtune and into another.

`export` starts the job, follows it with a progress bar (`GET /api/me/export/{id}` twice a
second), downloads the archive and checks it against its own manifest (every file's size and
sha256) before saying it is done: a download damaged on the way is an error, not a file.
`import` sends the archive (the gateway checks it before anything is made), follows the
restore and prints its report: what was restored, what was skipped and why, and what stays in
the archive only."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import MofNCompleteColumn

from cli.client import Client, CliError, client_from, command
from cli.registry.transfer import TRANSFER_TIMEOUT, Counted, download, transfer_bar
from cli.render import console, progress_bars, say
from contracts.accounts import ArchiveRefused, check_archive

account = typer.Typer(help="Your data: export it, import it elsewhere.", no_args_is_help=True)

POLL_S = 0.5
FOLLOW_LIMIT_S = 24 * 3600.0


def follow(client: Client, kind: str, job: dict) -> dict:
    """The job once it has ended, with a bar of its steps meanwhile."""
    deadline = time.monotonic() + FOLLOW_LIMIT_S
    what = "Exporting" if kind == "export" else "Importing"
    with progress_bars(MofNCompleteColumn()) as bars:
        task = bars.add_task(what, total=job.get("total") or None)
        while job["status"] == "running":
            if time.monotonic() > deadline:
                raise CliError(f"the {kind} job {job['job_id']} is still running; ask again later")
            time.sleep(POLL_S)
            job = client.get(f"/api/me/{kind}/{job['job_id']}")
            stage = f"{what}: {job['stage']}" if job.get("stage") else what
            bars.update(
                task, total=job.get("total") or None, completed=job["done"], description=stage
            )
    if job["status"] not in ("ready", "done"):  # an export to download, an import made
        raise CliError(job.get("error") or f"the {kind} ended {job['status']}")
    return job


@command(account, "export")
def export(
    ctx: typer.Context,
    output: Path = typer.Option(
        Path("simtune-export.zip"), "-o", "--output", help="Where to write the archive."
    ),
) -> None:
    """Export everything you made as one ZIP (manifest.json first, every file's sha256)."""
    client = client_from(ctx)
    job = follow(client, "export", client.request("POST", "/api/me/export"))
    size = download(client, job["download_url"], output)
    try:
        manifest = check_archive(output)
    except ArchiveRefused as exc:
        raise CliError(f"the downloaded archive {output} is damaged: {exc}") from None
    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in manifest.counts.items() if v)
    say(
        f"Wrote {output} ({size} bytes, {len(manifest.files) + 1} files verified): {counts or 'nothing yet'}."
    )


@command(account, "import")
def import_(
    ctx: typer.Context,
    archive: Path = typer.Argument(..., help="An archive made by `simtune account export`."),
) -> None:
    """Restore the experts of an exported archive here (a new expert for each)."""
    if not archive.is_file():
        raise CliError(f"{archive} is not a file")
    client = client_from(ctx)
    try:
        with archive.open("rb") as file, transfer_bar() as bar:
            task = bar.add_task(f"Sending {archive.name}", total=archive.stat().st_size)
            part = (archive.name, Counted(file, bar, task), "application/zip")
            job = client.request(
                "POST", "/api/me/import", files={"file": part}, timeout=TRANSFER_TIMEOUT
            )
    except OSError as exc:
        raise CliError(f"cannot read {archive}: {exc.strerror}") from exc
    job = follow(client, "import", job)
    restored: dict[str, int] = {}
    for item in job["restored"]:
        restored[item["kind"]] = restored.get(item["kind"], 0) + 1
    say(
        "Restored: "
        + (", ".join(f"{v} {k.replace('_', ' ')}" for k, v in restored.items()) or "nothing")
        + "."
    )
    for item in job["skipped"]:
        console.print(
            f"Skipped {item['kind'].replace('_', ' ')} {item['source_id']}: {item['reason']}",
            markup=False,
        )
    kept = job.get("kept") or {}
    if kept:
        say("Kept in the archive, not replayed here: "
            + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in kept.items()) + ".")  # fmt: skip
