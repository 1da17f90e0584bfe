"""`simtune projections`: the read models' state, and rebuilding them with a progress bar."""

from __future__ import annotations

import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from cli.client import Client, CliError
from cli.render import console

POLL_S = 0.5
STATE_STYLE = {"running": "green", "rebuilding": "yellow", "waiting": "yellow", "stuck": "red"}


def status_table(overview: dict) -> Table:
    table = Table(title="Projections", title_justify="left")
    for column in ("Service", "Projection", "State", "Checkpoint", "Lag"):
        table.add_column(column, no_wrap=True, justify="right" if column == "Lag" else "left")
    table.add_column("Detail", overflow="fold")
    for p in overview["projections"]:
        checkpoints = ", ".join(f"{s} {seq}" for s, seq in sorted(p.get("checkpoints", {}).items()))
        table.add_row(
            p.get("service", ""),
            p["name"],
            Text(p["state"], style=STATE_STYLE.get(p["state"], "")),
            checkpoints or "–",
            str(p.get("lag", 0)),
            Text(p.get("detail") or ""),
        )
    return table


def show_status(client: Client) -> None:
    overview = client.get("/api/admin/projections")
    console.print(status_table(overview))
    silent = overview.get("not_answering") or []
    if silent:
        console.print(Text(f"Not answering: {', '.join(silent)}.", style="yellow"))
    stuck = [p["name"] for p in overview["projections"] if p["state"] == "stuck"]
    if stuck:
        raise CliError(
            f"{', '.join(stuck)} {'is' if len(stuck) == 1 else 'are'} stuck; the detail above says"
            " at which event and why"
        )


def rebuild(client: Client, service: str, timeout: float) -> dict:
    """Start a rebuild and follow it with one progress bar per projection; the final job."""
    job = client.request("POST", f"/api/admin/projections/{service}/rebuild")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeElapsedColumn(),
    )
    deadline = time.monotonic() + timeout
    with Progress(*columns, console=console) as progress:
        bars = {p["name"]: progress.add_task(p["name"], total=None) for p in job["projections"]}
        while True:
            for p in job["projections"]:
                total = max(p.get("total", 0), p.get("replayed", 0)) or None
                progress.update(bars[p["name"]], completed=p.get("replayed", 0), total=total)
            if job["state"] != "running":
                break
            if time.monotonic() > deadline:
                raise CliError(
                    f"gave up waiting after {timeout:g} s; the rebuild goes on — see"
                    " `simtune projections status`"
                )
            time.sleep(POLL_S)
            job = client.get(f"/api/admin/projections/{service}/rebuild/{job['id']}")
    if job["state"] == "failed":
        raise CliError(job.get("error") or f"the rebuild of {service} failed")
    return job
