"""Following a dataset build with a progress bar (its stage, done of total), and its outcome:
the counts and what was left out and why, or one line saying why it did not finish."""

from __future__ import annotations

import time

from rich.progress import TextColumn, TimeElapsedColumn
from rich.text import Text

from cli.client import Client, CliError
from cli.datasets.views import dataset_details
from cli.render import console, progress_bars, say

POLL_S = 0.5
SHOWN_REJECTIONS = 10


def follow(client: Client, dataset_id: str, timeout: float) -> dict:
    """Show the build's stage and progress until it is no longer building; its last view."""
    deadline = time.monotonic() + timeout
    columns = (TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())
    with progress_bars(*columns) as progress:
        task = progress.add_task("starting", total=None)
        while True:
            view = client.get(f"/api/datasets/{dataset_id}")
            if view["status"] != "building":
                return view
            done = view["progress"].get("done", 0)
            total = view["progress"].get("total") or None
            progress.update(
                task, description=view.get("stage") or "starting", completed=done, total=total
            )
            if time.monotonic() > deadline:
                raise CliError(
                    f"gave up waiting after {timeout:g} s; the build goes on"
                    f" — see `simtune datasets show {dataset_id}`"
                )
            time.sleep(POLL_S)


def outcome(client: Client, view: dict) -> None:
    """A ready version's details and the first things left out; exit 1 if it failed."""
    if view["status"] == "failed":
        raise CliError(f"the build of version {view['version']} failed: {view['reason']}")
    if view["status"] == "cancelled":
        raise CliError(f"the build of version {view['version']} was cancelled")
    console.print(dataset_details(view))
    rejections = client.get(f"/api/datasets/{view['id']}/rejections")["rejections"]
    for r in rejections[:SHOWN_REJECTIONS]:
        line = Text(f"  left out ({r['code']}): ", style="dim")
        line.append(f"{r['question'] or '—'} — {r['detail']}")
        console.print(line)
    if len(rejections) > SHOWN_REJECTIONS:
        say(f"  … and {len(rejections) - SHOWN_REJECTIONS} more")
