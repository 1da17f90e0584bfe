"""Following benchmark runs from `simtune benchmark`: each run polled into its own progress bar
(answered of total, then its composite once it has one) until every run has ended; Ctrl-C
asks whether to cancel them.

It polls the run's view rather than reading its progress stream: a run asks at most fifty
questions of a second or more each, so two reads a second are as live, and one loop follows
the two or three runs of a diagnosis at once with no stream to reconnect."""

from __future__ import annotations

import time

import typer
from rich.progress import MofNCompleteColumn, TextColumn

from cli.benchmark.views import points
from cli.client import ApiError, Client, CliError
from cli.render import console, progress_bars, say

ENDED = ("succeeded", "failed", "cancelled")
POLL_S = 0.5
CANCEL_TRIES = 5
# A run queued a moment ago may not be readable yet: its view is written as its queueing is
# read from the log. Not found for this long after queueing means it is really not there.
UNSEEN_GRACE_S = 10.0


def view(client: Client, run_id: str, queued_at: float) -> dict | None:
    """The run as it is now; None while it may still be on its way to being readable."""
    try:
        return client.get(f"/api/benchmark/{run_id}")
    except ApiError as exc:
        if exc.code == "not_found" and time.monotonic() - queued_at < UNSEEN_GRACE_S:
            return None
        raise


def describe(label: str, run: dict | None) -> str:
    if run is None or run["status"] == "queued":
        return f"{label}: waiting in the queue"
    if run["status"] == "succeeded":
        return f"{label}: composite {points(run.get('composite_score'))}"
    return f"{label}: {run['status']}"


def follow(client: Client, runs: dict[str, str], timeout: float) -> dict[str, dict]:
    """Show each run's progress until all have ended; each run as it ended, by label."""
    started = time.monotonic()
    ended: dict[str, dict] = {}
    with progress_bars(MofNCompleteColumn(), TextColumn("answered")) as progress:
        tasks = {label: progress.add_task(describe(label, None), total=None) for label in runs}
        while len(ended) < len(runs):
            if time.monotonic() - started > timeout:
                waiting = ", ".join(runs[label] for label in runs if label not in ended)
                raise CliError(
                    f"gave up waiting after {timeout:g} s; the runs go on"
                    f" — see `simtune benchmark show RUN` for {waiting}"
                )
            for label, run_id in runs.items():
                if label in ended:
                    continue
                run = view(client, run_id, started)
                if run is not None:
                    progress.update(
                        tasks[label],
                        description=describe(label, run),
                        completed=run["answered"],
                        total=run["total"] or None,
                    )
                    if run["status"] in ENDED:
                        ended[label] = run
            if len(ended) < len(runs):
                time.sleep(POLL_S)
    return ended


def interrupted(client: Client, run_ids: list[str]) -> None:
    """Ctrl-C while following: cancel the runs, or leave them going."""
    console.print()
    one = len(run_ids) == 1
    what = f"benchmark run {run_ids[0]}" if one else f"the {len(run_ids)} benchmark runs"
    if typer.confirm(f"Cancel {what}?", default=False):
        for run_id in run_ids:
            cancel(client, run_id)
        raise CliError(f"{what} {'was' if one else 'were'} cancelled")
    shows = "; ".join(f"simtune benchmark show {run_id}" for run_id in run_ids)
    say(f"{what[0].upper()}{what[1:]} {'goes' if one else 'go'} on. See: {shows}")
    raise typer.Exit(130)


def cancel(client: Client, run_id: str) -> dict:
    """Cancel a run; the run as it is afterwards. A run that is answering records a result
    about every second, and a cancel that lands between reading the run and writing to it is
    refused as a conflict: cancelling twice is harmless, so it is simply asked again."""
    path = f"/api/benchmark/{run_id}"
    for attempt in range(1, CANCEL_TRIES):
        try:
            return client.request("DELETE", path)
        except ApiError as exc:
            if exc.code != "conflict":
                raise
            time.sleep(0.1 * attempt)
    return client.request("DELETE", path)  # the last try: its error is the one to show
