"""Following a run from `simtune trainer`: its progress stream read into a progress bar, with
a reconnect when the stream drops; Ctrl-C asks whether to cancel; the outcome as one line."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import typer
from rich.progress import TextColumn

from cli.client import Client, CliError
from cli.render import console, loss, progress_bars, say
from cli.trainer.views import clock, run_details

ENDED = ("succeeded", "failed", "cancelled")
RECONNECTS = 5
STREAM_TIMEOUT = httpx.Timeout(30.0, read=60.0)


def goes_on(run_id: str) -> str:
    """Where to look at a run that is no longer followed."""
    return f"the run goes on — see `simtune trainer status {run_id}`"


def progress_events(client: Client, run_id: str, deadline: float) -> Iterator[dict]:
    """The run's progress events until one says it ended; reconnects when the stream drops."""
    failures = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        try:
            path = f"/api/finetune/{run_id}/progress"
            with client.stream("GET", path, timeout=STREAM_TIMEOUT) as response:
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    failures = 0
                    event = json.loads(line[5:])
                    yield event
                    if event["status"] in ENDED:
                        return
        except httpx.TransportError as exc:
            failures += 1
            if failures > RECONNECTS:
                raise CliError(
                    f"lost the connection to Simtune at {client.url}; {goes_on(run_id)}"
                ) from exc
        time.sleep(min(2.0, 0.2 * 2**failures))


def describe(event: dict) -> str:
    if event["status"] == "queued":
        position = event.get("queue_position")
        return f"waiting in the queue, position {position}" if position else "waiting in the queue"
    return event.get("stage") or event["status"]


def follow(client: Client, run_id: str, timeout: float) -> dict:
    """Show the run's progress until it ends; the run as it ended."""
    columns = (
        TextColumn("step {task.completed}/{task.fields[total_steps]}"),
        TextColumn("{task.fields[losses]}"),
        TextColumn("{task.fields[eta]}"),
    )
    deadline = time.monotonic() + timeout
    with progress_bars(*columns) as progress:
        task = progress.add_task("starting", total=None, total_steps="?", losses="", eta="")
        try:
            for event in progress_events(client, run_id, deadline):
                total = event["total_steps"] or None
                eta = event.get("eta_seconds") if event["status"] == "running" else None
                progress.update(
                    task,
                    description=describe(event),
                    completed=event["step"],
                    total=total,
                    total_steps=total or "?",
                    losses=f"loss {loss(event['loss'])}  eval loss {loss(event['eval_loss'])}",
                    eta="" if eta is None else f"ETA {clock(eta)}",
                )
        except TimeoutError:
            raise CliError(f"gave up waiting after {timeout:g} s; {goes_on(run_id)}") from None
    return client.get(f"/api/finetune/{run_id}")


def interrupted(client: Client, run: dict) -> None:
    """Ctrl-C while following: cancel the run, or leave it going."""
    console.print()
    if typer.confirm(f"Cancel run {run['number']}?", default=False):
        client.request("DELETE", f"/api/finetune/{run['id']}")
        raise CliError(f"run {run['number']} was cancelled")
    say(f"Run {run['number']} goes on. Follow it with: simtune trainer status {run['id']}")
    raise typer.Exit(130)


def outcome(run: dict) -> None:
    if run["status"] == "failed":
        raise CliError(f"run {run['number']} failed: {run.get('error') or 'no reason was given'}")
    if run["status"] == "cancelled":
        raise CliError(f"run {run['number']} was cancelled")
    say(f"Run {run['number']} succeeded: adapter {run['adapter_id']}", "green")
    console.print(run_details(run))
