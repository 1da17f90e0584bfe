"""`simtune`: the command line of Simtune, a thin client of the gateway's HTTP API."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.text import Text

from cli import adapters, bench, datasets, finetune, projections
from cli import answers as answering
from cli import ingest as ingesting
from cli.client import DEFAULT_URL, Client, CliError, client_from, friendly
from cli.render import console, documents_table, expert_details, experts_table, search_results
from cli.resolve import resolve_expert

app = typer.Typer(
    help="Simtune: turn your own documents into your own expert.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
experts_app = typer.Typer(help="Create, list, show and delete experts.", no_args_is_help=True)
documents_app = typer.Typer(help="List and delete an expert's documents.", no_args_is_help=True)
projections_app = typer.Typer(help="Maintenance of the read models.", no_args_is_help=True)
backend_app = typer.Typer(help="Which model answers for an expert.", no_args_is_help=True)
app.add_typer(experts_app, name="experts")
app.add_typer(documents_app, name="documents")
app.add_typer(projections_app, name="projections")
app.add_typer(backend_app, name="backend")
app.add_typer(datasets.app, name="datasets")
app.add_typer(finetune.app, name="train")
app.add_typer(adapters.app, name="adapters")
app.add_typer(bench.app, name="bench")

ExpertArg = typer.Argument(..., metavar="EXPERT", help="The expert's id or exact name.")


@app.callback()
def main(
    ctx: typer.Context,
    url: str = typer.Option(
        DEFAULT_URL, "--url", envvar="SIMTUNE_URL", help="Where the Simtune gateway runs."
    ),
) -> None:
    ctx.obj = {"url": url}


def find_expert(client: Client, ref: str) -> dict:
    return resolve_expert(client.get("/api/experts"), ref)


# ---- experts -------------------------------------------------------------------------------


@experts_app.command("create")
@friendly
def experts_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="What to call the expert."),
    domain: str = typer.Option("", help="What it knows about."),
    description: str = typer.Option("", help="Who it is and who it is for."),
    goal: list[str] = typer.Option([], "--goal", help="Something it should help with (repeat)."),
) -> None:
    """Create an expert."""
    body = {"name": name, "domain": domain, "description": description, "goals": goal}
    expert = client_from(ctx).request("POST", "/api/experts", json=body)
    console.print(Text(f"Created expert {expert['name']} (id {expert['id']})."))


@experts_app.command("list")
@friendly
def experts_list(ctx: typer.Context) -> None:
    """List experts."""
    experts = client_from(ctx).get("/api/experts")
    if not experts:
        console.print('No experts yet. Create one with: simtune experts create "Name"')
        return
    console.print(experts_table(experts))


@experts_app.command("show")
@friendly
def experts_show(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """Show an expert's profile."""
    client = client_from(ctx)
    found = find_expert(client, expert)
    documents = client.get_all(f"/api/experts/{found['id']}/documents")
    console.print(expert_details(found, documents))


@experts_app.command("delete")
@friendly
def experts_delete(
    ctx: typer.Context,
    expert: str = ExpertArg,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete an expert and everything it owns."""
    client = client_from(ctx)
    found = find_expert(client, expert)
    question = f"Delete {found['name']} and all of its documents?"
    if not yes and not typer.confirm(question, default=False):
        raise CliError("nothing was deleted")
    client.request("DELETE", f"/api/experts/{found['id']}")
    console.print(Text(f"Deleted expert {found['name']}."))


# ---- documents -----------------------------------------------------------------------------


@app.command("ingest")
@friendly
def ingest(
    ctx: typer.Context,
    expert: str = ExpertArg,
    files: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="PDF, .txt or .md files."
    ),
    timeout: float = typer.Option(600.0, help="Seconds to wait for the files to be ready."),
) -> None:
    """Upload files to an expert and follow them until each is ready or rejected."""
    client = client_from(ctx)
    found = find_expert(client, expert)
    docs = ingesting.ingest(client, found["id"], files, timeout)
    failed = ingesting.summary(docs)
    if failed:
        raise CliError(f"{failed} of {len(docs)} files could not be used (see the reasons above)")


@documents_app.command("list")
@friendly
def documents_list(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """List an expert's documents with their status."""
    client = client_from(ctx)
    found = find_expert(client, expert)
    docs = client.get_all(f"/api/experts/{found['id']}/documents")
    if not docs:
        console.print(Text(f"{found['name']} has no documents yet. Add some with: simtune ingest"))
        return
    console.print(documents_table(docs, title=f"Documents of {found['name']}"))


@documents_app.command("delete")
@friendly
def documents_delete(ctx: typer.Context, document_id: str = typer.Argument(...)) -> None:
    """Delete a document (the expert forgets its passages)."""
    client = client_from(ctx)
    doc = client.get(f"/api/documents/{document_id}")
    client.request("DELETE", f"/api/documents/{document_id}")
    console.print(Text(f"Deleted {doc['filename']}."))


# ---- search and maintenance ----------------------------------------------------------------


@app.command("search")
@friendly
def search(
    ctx: typer.Context,
    expert: str = ExpertArg,
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(5, "-k", "--k", min=1, max=50, help="How many passages."),
) -> None:
    """Search an expert's documents."""
    client = client_from(ctx)
    found = find_expert(client, expert)
    reply = client.get(f"/api/experts/{found['id']}/search", q=query, k=k)
    if not reply["results"]:
        console.print("Nothing found. Try other words, or add documents that talk about it.")
        return
    for line in search_results(reply["results"]):
        console.print(line)


# ---- answers -------------------------------------------------------------------------------

MODES = ("rag", "closed", "prompt-tuned")


@app.command("ask")
@friendly
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
    max_tokens: int | None = typer.Option(None, min=1, max=8192, help="Longest answer."),
) -> None:
    """Ask an expert; the answer streams in, then its sources."""
    if mode is not None and mode not in MODES:
        raise CliError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    client = client_from(ctx)
    found = find_expert(client, expert)
    body: dict = {"question": question}
    if mode:
        body["mode"] = mode.replace("-", "_")
    if max_tokens:
        body["max_tokens"] = max_tokens
    answer = answering.stream_answer(client, f"/api/experts/{found['id']}/ask", body)
    answering.show_sources(answer)


@app.command("draft")
@friendly
def draft(
    ctx: typer.Context,
    expert: str = ExpertArg,
    prompt: str = typer.Argument(..., help="What to write, e.g. a short introduction to X."),
    max_tokens: int | None = typer.Option(None, min=1, max=8192, help="Longest draft."),
) -> None:
    """Have an expert write something in its own voice."""
    client = client_from(ctx)
    found = find_expert(client, expert)
    body: dict = {"prompt": prompt}
    if max_tokens:
        body["max_tokens"] = max_tokens
    answer = answering.stream_answer(client, f"/api/experts/{found['id']}/drafts", body)
    answering.show_sources(answer)


@app.command("feedback")
@friendly
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
    body = answering.feedback_body(rating, edit_file, tag, comment)
    client_from(ctx).request("POST", f"/api/answers/{answer_id}/feedback", json=body)
    console.print(Text(f"Thanks: answer {answer_id} rated {rating}/5."))


@app.command("traces")
@friendly
def traces(
    ctx: typer.Context,
    expert: str = ExpertArg,
    limit: int = typer.Option(20, min=1, max=200, help="How many, newest first."),
    rated: bool | None = typer.Option(None, "--rated/--unrated", help="Only rated or unrated."),
) -> None:
    """List an expert's answers with their scores and ratings."""
    client = client_from(ctx)
    found = find_expert(client, expert)
    params: dict = {"limit": limit}
    if rated is not None:
        params["rated"] = str(rated).lower()
    page = client.get(f"/api/experts/{found['id']}/traces", **params)
    if not page["traces"]:
        console.print(
            Text(f'{found["name"]} has not answered yet. Try: simtune ask "{found["name"]}" "..."')
        )
        return
    console.print(answering.traces_table(page["traces"], f"Answers of {found['name']}"))


@backend_app.command("show")
@friendly
def backend_show(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """Show which model answers for an expert."""
    client = client_from(ctx)
    found = find_expert(client, expert)
    console.print(answering.backend_details(client.get(f"/api/experts/{found['id']}/backend")))


@backend_app.command("set")
@friendly
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

    client = client_from(ctx)
    found = find_expert(client, expert)
    body: dict = {"kind": kind, "base_url": base_url, "model": model, "timeout_s": timeout}
    if api_key_env:
        if not os.environ.get(api_key_env):
            raise CliError(f"the environment variable {api_key_env} is not set")
        body["api_key"] = os.environ[api_key_env]
    shown = client.request("PUT", f"/api/experts/{found['id']}/backend", json=body)
    console.print(answering.backend_details(shown))


@backend_app.command("test")
@friendly
def backend_test(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """Send a one-token request to the expert's backend."""
    client = client_from(ctx)
    found = find_expert(client, expert)
    result = client.request("POST", f"/api/experts/{found['id']}/backend/test")
    console.print(Text(f"{result['detail']} ({result['latency_ms']:.0f} ms)"))
    if not result["ok"]:
        raise CliError("the backend did not answer")


@projections_app.command("status")
@friendly
def projections_status(ctx: typer.Context) -> None:
    """List each projection's checkpoint, lag and state (exit status 1 if one is stuck)."""
    projections.show_status(client_from(ctx))


@projections_app.command("rebuild")
@friendly
def projections_rebuild(
    ctx: typer.Context,
    service: str = typer.Argument(..., help="expert, ingest or knowledge"),
    timeout: float = typer.Option(3600.0, help="Seconds to follow the rebuild."),
) -> None:
    """Rebuild a service's read models from the event log; they keep serving meanwhile."""
    job = projections.rebuild(client_from(ctx), service, timeout)
    for p in job["projections"]:
        console.print(Text(f"Rebuilt {p['name']} from {p['replayed']} events."))


if __name__ == "__main__":
    app()
