"""Following uploaded files until each is ready or rejected, one progress bar per file."""

from __future__ import annotations

import time
from pathlib import Path

from rich.progress import TextColumn, TimeElapsedColumn

from cli.client import Client, CliError
from cli.render import progress_bars

STEP = {"uploaded": 1, "parsing": 2, "embedding": 3, "ready": 4, "rejected": 4, "deleted": 4}
FINAL = {"ready", "rejected", "deleted"}
POLL_S = 0.5


def ingest(client: Client, expert_id: str, files: list[Path], timeout: float) -> list[dict]:
    """Upload `files`, show progress until each settles; returns the documents at the end."""
    uploaded = client.upload(expert_id, files)
    ids = list(dict.fromkeys(d["id"] for d in uploaded))  # the same bytes twice: one document
    latest = {d["id"]: d for d in uploaded}
    # The bars stay when it ends: they are the files' outcome.
    columns = (TextColumn("{task.fields[status]}"), TimeElapsedColumn())
    with progress_bars(*columns, transient=False) as progress:
        tasks = {
            i: progress.add_task(latest[i]["filename"], total=4, status=latest[i]["status"])
            for i in ids
        }
        deadline = time.monotonic() + timeout
        while True:
            for doc_id in ids:
                doc = latest[doc_id]
                progress.update(
                    tasks[doc_id], completed=STEP.get(doc["status"], 0), status=doc["status"]
                )
            if all(latest[i]["status"] in FINAL for i in ids):
                break
            if time.monotonic() > deadline:
                raise CliError(
                    f"gave up waiting after {timeout:g} s; the files are still being processed"
                    " — see `simtune documents list`"
                )
            time.sleep(POLL_S)
            current = {d["id"]: d for d in client.get_all(f"/api/experts/{expert_id}/documents")}
            for doc_id in ids:
                latest[doc_id] = current.get(doc_id) or gone(latest[doc_id])
    return [latest[i] for i in ids]


def gone(doc: dict) -> dict:
    return {**doc, "status": "deleted", "reason": "it was deleted while being processed"}
