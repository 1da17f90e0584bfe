"""Following a rebuild of a service's read models, one progress bar per projection."""

from __future__ import annotations

import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.client import Client, CliError
from cli.render import console

POLL_S = 0.5


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
