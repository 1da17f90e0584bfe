"""The expert speaks in the terminal: an answer's Server-Sent Events read and printed token
by token as it is written, then its sources."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
from rich.text import Text

from cli.client import Client, CliError
from cli.render import console, say


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
        with client.stream("POST", path, json=body, headers=headers, timeout=None) as response:
            for event, data in sse_events(response):
                if event == "queued":
                    say(f"(waiting for the model: {data['position']} ahead)")
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
    """What the answer cited (and what it cited wrongly), then its id, mode and speed."""
    if answer.get("refused"):
        say("The expert declined: " + answer["refused"], "yellow")
    for c in answer["citations"]:
        say(f"[{c['n']}] {c['filename']}, page {c['page']}", "cyan")
    if answer.get("removed_citations"):
        n = answer["removed_citations"]
        say(f"{n} citation{'s' if n != 1 else ''} named no source and was removed.", "yellow")
    say(
        f"answer {answer['answer_id']} · {answer['mode']} · {answer['model']}"
        f" · {answer['latency_ms'] / 1000:.1f} s · {answer['tokens_per_s']:.1f} tokens/s",
        "dim",
    )
