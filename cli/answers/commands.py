"""`simtune ask|draft|feedback|traces` and `simtune backend show|set|test`."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.answers.stream import show_sources, stream_answer
from cli.answers.views import backend_details, traces_table
from cli.args import ExpertArg, NewestOption, expert_of, key_from_env, one_of
from cli.client import CliError, client_from, command
from cli.render import console, print_list, say

commands = typer.Typer()  # ask, draft, feedback and traces, at the top level of `simtune`
backend = typer.Typer(help="Which model answers for an expert.", no_args_is_help=True)

MODES = ("rag", "closed", "prompt-tuned")


def longest(what: str) -> typer.models.OptionInfo:
    return typer.Option(None, "--max-tokens", min=1, max=8192, help=f"Longest {what}.")


def answer(ctx: typer.Context, expert: str, route: str, body: dict, max_tokens: int | None):
    """POST to the expert's `route` (ask or drafts) and print the answer as it is written,
    then its sources."""
    client, found = expert_of(ctx, expert)
    if max_tokens:
        body["max_tokens"] = max_tokens
    show_sources(stream_answer(client, f"/api/experts/{found['id']}/{route}", body))


@command(commands, "ask")
def ask(
    ctx: typer.Context,
    expert: str = ExpertArg,
    question: str = typer.Argument(..., help="What to ask."),
    mode: str | None = typer.Option(
        None,
        "--mode",
        help="rag (from the documents), closed (no documents) or prompt-tuned (learns from"
        " the best-rated answers). Default: rag when the expert has documents.",
    ),
    max_tokens: int | None = longest("answer"),
) -> None:
    """Ask an expert; the answer streams in, then its sources."""
    body: dict = {"question": question}
    if one_of("--mode", mode, MODES):
        body["mode"] = mode.replace("-", "_")
    answer(ctx, expert, "ask", body, max_tokens)


@command(commands, "draft")
def draft(
    ctx: typer.Context,
    expert: str = ExpertArg,
    prompt: str = typer.Argument(..., help="What to write, e.g. a short introduction to X."),
    max_tokens: int | None = longest("draft"),
) -> None:
    """Have an expert write something in its own voice."""
    answer(ctx, expert, "drafts", {"prompt": prompt}, max_tokens)


@command(commands, "feedback")
def feedback(
    ctx: typer.Context,
    answer_id: str = typer.Argument(..., help="The answer's id (printed under each answer)."),
    rating: int = typer.Option(..., "--rating", min=1, max=5, help="1 (bad) to 5 (excellent)."),
    edit_file: Path | None = typer.Option(
        None, "--edit-file", exists=True, dir_okay=False, help="A file with a better answer."
    ),
    tag: list[str] = typer.Option([], "--tag", help="A tag (repeat)."),
    comment: str | None = typer.Option(None, "--comment", help="What was good or wrong."),
) -> None:
    """Rate an answer, and optionally give a better one."""
    body: dict = {"rating": rating, "tags": tag}
    if edit_file is not None:
        try:
            body["edited_answer"] = edit_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {edit_file}: {exc}") from exc
    if comment:
        body["comment"] = comment
    client_from(ctx).request("POST", f"/api/answers/{answer_id}/feedback", json=body)
    say(f"Thanks: answer {answer_id} rated {rating}/5.")


@command(commands, "traces")
def traces(
    ctx: typer.Context,
    expert: str = ExpertArg,
    limit: int = NewestOption,
    rated: bool | None = typer.Option(None, "--rated/--unrated", help="Only rated or unrated."),
) -> None:
    """List an expert's answers with their scores and ratings."""
    client, found = expert_of(ctx, expert)
    params: dict = {"limit": limit}
    if rated is not None:
        params["rated"] = str(rated).lower()
    page = client.get(f"/api/experts/{found['id']}/traces", **params)
    name = found["name"]
    empty = f'{name} has not answered yet. Try: simtune ask "{name}" "..."'
    print_list(page["traces"], traces_table, empty, f"Answers of {name}")


@command(backend, "show")
def backend_show(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """Show which model answers for an expert."""
    client, found = expert_of(ctx, expert)
    console.print(backend_details(client.get(f"/api/experts/{found['id']}/backend")))


@command(backend, "set")
def backend_set(
    ctx: typer.Context,
    expert: str = ExpertArg,
    kind: str = typer.Argument(..., help="local, openai (any OpenAI-compatible server) or ollama"),
    base_url: str | None = typer.Option(None, help="The server, e.g. http://127.0.0.1:11434"),
    model: str | None = typer.Option(None, help="The model's name on that server."),
    api_key_env: str | None = typer.Option(
        None, help="Name of an environment variable holding the API key (never typed here)."
    ),
    timeout: float = typer.Option(60.0, min=1, max=600, help="Seconds to wait for the server."),
) -> None:
    """Choose the model backend of an expert."""
    client, found = expert_of(ctx, expert)
    body: dict = {"kind": kind, "base_url": base_url, "model": model, "timeout_s": timeout}
    if api_key_env:
        body["api_key"] = key_from_env(api_key_env)
    shown = client.request("PUT", f"/api/experts/{found['id']}/backend", json=body)
    console.print(backend_details(shown))


@command(backend, "test")
def backend_test(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """Send a one-token request to the expert's backend."""
    client, found = expert_of(ctx, expert)
    result = client.request("POST", f"/api/experts/{found['id']}/backend/test")
    say(f"{result['detail']} ({result['latency_ms']:.0f} ms)")
    if not result["ok"]:
        raise CliError("the backend did not answer")
