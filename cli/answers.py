"""`simtune ask`, `draft`, `feedback`, `traces` and `backend`: the expert speaks in the
terminal, token by token, and what a person thinks of an answer goes back to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
from rich.table import Table
from rich.text import Text

from cli.client import Client, CliError, _api_error
from cli.render import console


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    """(event, data) pairs of a Server-Sent Events response."""
    event, data = "message", []
    for line in response.iter_lines():
        if not line:
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        yield event, json.loads("\n".join(data))


def stream_answer(client: Client, path: str, body: dict) -> dict:
    """POST `body`, print the answer while it is written; the finished answer."""
    headers = {"Accept": "text/event-stream"}
    try:
        with client._http.stream("POST", path, json=body, headers=headers, timeout=None) as r:
            if r.status_code >= 400:
                r.read()
                raise _api_error(r)
            for event, data in sse_events(r):
                if event == "queued":
                    console.print(Text(f"(waiting for the model: {data['position']} ahead)"))
                elif event == "token":
                    console.print(Text(data["text"]), end="")
                elif event == "error":
                    console.print()
                    raise CliError(data["detail"])
                elif event == "done":
                    console.print()
                    return data
    except httpx.TransportError as exc:
        raise CliError(f"cannot reach Simtune at {client.url} — is `make run` running?") from exc
    raise CliError("the answer stream ended before the answer was finished")


def show_sources(answer: dict) -> None:
    if answer.get("refused"):
        console.print(Text("The expert declined: " + answer["refused"], style="yellow"))
    for c in answer["citations"]:
        console.print(Text(f"[{c['n']}] {c['filename']}, page {c['page']}", style="cyan"))
    if answer.get("removed_citations"):
        n = answer["removed_citations"]
        console.print(
            Text(f"{n} citation{'s' if n != 1 else ''} named no source and was removed.", "yellow")
        )
    console.print(
        Text(
            f"answer {answer['answer_id']} · {answer['mode']} · {answer['model']}"
            f" · {answer['latency_ms'] / 1000:.1f} s · {answer['tokens_per_s']:.1f} tokens/s",
            style="dim",
        )
    )


def feedback_body(
    rating: int, edit_file: Path | None, tags: list[str], comment: str | None
) -> dict:
    body: dict = {"rating": rating, "tags": tags}
    if edit_file is not None:
        try:
            body["edited_answer"] = edit_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {edit_file}: {exc}") from exc
    if comment:
        body["comment"] = comment
    return body


def traces_table(traces: list[dict], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("Answer", no_wrap=True)
    table.add_column("When", no_wrap=True)
    table.add_column("Mode")
    table.add_column("Question")
    table.add_column("Score", justify="right")
    table.add_column("Rating", justify="right")
    table.add_column("Edited")
    table.add_column("Model")
    for t in traces:
        score = t.get("score")
        feedback = t.get("feedback")
        table.add_row(
            t["answer_id"],
            t["created_at"][:16].replace("T", " "),
            t["mode"] if t["kind"] == "answer" else "draft",
            Text(t["question"][:60]),
            f"{score['score']:.1f}" if score else "…",
            "★" * feedback["rating"] if feedback else "",
            "yes" if feedback and feedback.get("edited_answer") else "",
            Text(t["model"]),
        )
    return table


def backend_details(backend: dict) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Answering", Text(backend["label"]))
    table.add_row("Kind", backend["kind"])
    if backend["kind"] != "local":
        table.add_row("Server", Text(backend.get("base_url") or ""))
        table.add_row("Model", Text(backend.get("model") or ""))
        table.add_row("API key", "set" if backend["api_key_set"] else "none")
        table.add_row("Timeout", f"{backend['timeout_s']:g} s")
    return table
