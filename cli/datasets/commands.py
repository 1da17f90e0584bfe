"""`simtune datasets build|list|show|export`: build an expert's training data (and follow
the build), list its versions, show one, and download it as JSONL."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.args import ExpertArg, expert_of, list_owned, one_of, output_option
from cli.client import CliError, client_from, command, write_out
from cli.datasets.follow import follow, outcome
from cli.datasets.views import dataset_details, datasets_table, examples_table
from cli.render import console, say

app = typer.Typer(help="Build, list, show and download training datasets.", no_args_is_help=True)

GENERATORS = ("auto", "offline", "backend")
FORMATS = ("chat", "alpaca", "preference")
SPLITS = ("train", "val")
MAX_MANUAL_CHARS = 99_000

DatasetArg = typer.Argument(..., metavar="DATASET_ID", help="The dataset version's id.")


def manual_text(path: Path) -> str:
    """The JSONL file's text; the dataset service checks it line by line."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise CliError(f"{path}: line {line} is not valid UTF-8 text") from None
    if len(text) > MAX_MANUAL_CHARS:
        raise CliError(f"{path} is too long: at most {MAX_MANUAL_CHARS:,} characters at once")
    return text


@command(app, "build")
def build(
    ctx: typer.Context,
    expert: str = ExpertArg,
    questions: int = typer.Option(
        100, min=0, max=5000, help="Questions from the documents (0: leave the documents out)."
    ),
    generator: str = typer.Option(
        "auto", help="Who writes them: auto, offline (the documents' own sentences) or backend."
    ),
    traces: bool = typer.Option(True, "--traces/--no-traces", help="Take good answers."),
    min_quality: float = typer.Option(8.0, min=0, max=10, help="Lowest score of an answer."),
    min_rating: int = typer.Option(4, min=1, max=5, help="Lowest rating of a rated answer."),
    feedback: bool = typer.Option(
        True, "--feedback/--no-feedback", help="Take your edits (also as preference pairs)."
    ),
    manual: Path | None = typer.Option(
        None,
        "--manual",
        exists=True,
        dir_okay=False,
        readable=True,
        help='A JSONL file of your own examples: {"question": ..., "answer": ...} a line.',
    ),
    max_examples: int = typer.Option(500, min=1, max=5000, help="The most examples to keep."),
    seed: int = typer.Option(0, min=0, help="The same seed picks and splits the same way."),
    timeout: float = typer.Option(3600.0, help="Seconds to follow the build."),
) -> None:
    """Build a new dataset version and follow it until it is ready."""
    one_of("--generator", generator, GENERATORS)
    client, found = expert_of(ctx, expert)
    sources: dict = {"feedback": feedback}
    if questions:
        sources["knowledge"] = {"questions": questions, "generator": generator}
    if traces:
        sources["traces"] = {"min_quality": min_quality, "min_rating": min_rating}
    body: dict = {"sources": sources, "max_examples": max_examples, "seed": seed}
    if manual:
        body["manual_jsonl"] = manual_text(manual)
    started = client.request("POST", f"/api/experts/{found['id']}/datasets", json=body)
    say(f"Building version {started['version']} (id {started['dataset_id']}).")
    outcome(client, follow(client, started["dataset_id"], timeout))


@command(app, "list")
def list_versions(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """List an expert's dataset versions, newest first."""
    list_owned(ctx, expert, "datasets", datasets_table, "Build one with: simtune datasets build")


@command(app, "show")
def show(
    ctx: typer.Context,
    dataset_id: str = DatasetArg,
    limit: int = typer.Option(5, min=0, max=500, help="How many examples to show."),
) -> None:
    """Show a version: its counts, what was left out and why, and its first examples."""
    client = client_from(ctx)
    view = client.get(f"/api/datasets/{dataset_id}")
    if view["status"] != "ready":
        console.print(dataset_details(view))
        return
    outcome(client, view)
    if limit:
        page = client.get(f"/api/datasets/{dataset_id}/examples", limit=limit)
        title = f"The first {len(page['examples'])} of {page['total']} examples"
        console.print(examples_table(page["examples"], title))


@command(app, "export")
def export(
    ctx: typer.Context,
    dataset_id: str = DatasetArg,
    format: str = typer.Option("chat", "--format", help="chat, alpaca or preference."),
    split: str = typer.Option("train", "--split", help="train or val."),
    output: Path | None = output_option("File (default: stdout)."),
) -> None:
    """Download a split as JSONL."""
    params = {
        "format": one_of("--format", format, FORMATS),
        "split": one_of("--split", split, SPLITS),
    }
    response = client_from(ctx).send("GET", f"/api/datasets/{dataset_id}/export", params=params)
    if not write_out(response.text, output):
        return
    lines = response.content.count(b"\n")
    say(f"Wrote {lines} examples ({format}, {split}) to {output}.")
