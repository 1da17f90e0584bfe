"""`simtune ingest` (upload and follow), `simtune search`, and `simtune documents list|delete`."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.args import ExpertArg, expert_of, list_owned
from cli.client import CliError, client_from, command
from cli.documents.follow import ingest as upload_and_follow
from cli.documents.views import documents_table, search_results
from cli.render import console, print_list, say

app = typer.Typer(help="List and delete an expert's documents.", no_args_is_help=True)
commands = typer.Typer()  # `ingest` and `search`, at the top level of `simtune`


@command(commands, "ingest")
def ingest(
    ctx: typer.Context,
    expert: str = ExpertArg,
    files: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="PDF, .txt or .md files."
    ),
    timeout: float = typer.Option(600.0, help="Seconds to wait for the files to be ready."),
) -> None:
    """Upload files to an expert and follow them until each is ready or rejected."""
    client, found = expert_of(ctx, expert)
    docs = upload_and_follow(client, found["id"], files, timeout)
    console.print(documents_table(docs, title="Result"))
    failed = sum(1 for d in docs if d["status"] != "ready")
    if failed:
        raise CliError(f"{failed} of {len(docs)} files could not be used (see the reasons above)")


@command(commands, "search")
def search(
    ctx: typer.Context,
    expert: str = ExpertArg,
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(5, "-k", "--k", min=1, max=50, help="How many passages."),
) -> None:
    """Search an expert's documents."""
    client, found = expert_of(ctx, expert)
    reply = client.get(f"/api/experts/{found['id']}/search", q=query, k=k)
    empty = "Nothing found. Try other words, or add documents that talk about it."
    print_list(reply["results"], search_results, empty)


@command(app, "list")
def list_documents(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """List an expert's documents with their status."""
    hint = "Add some with: simtune ingest"
    list_owned(ctx, expert, "documents", documents_table, hint, paged=True)


@command(app, "delete")
def delete(ctx: typer.Context, document_id: str = typer.Argument(...)) -> None:
    """Delete a document (the expert forgets its passages)."""
    client = client_from(ctx)
    doc = client.get(f"/api/documents/{document_id}")
    client.request("DELETE", f"/api/documents/{document_id}")
    say(f"Deleted {doc['filename']}.")
