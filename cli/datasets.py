"""`simtune datasets`: build an expert's training data (and follow the build), list its
versions, show one, and download it as JSONL."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from cli.client import Client, CliError, client_from, friendly, write_out
from cli.render import console, dataset_details, datasets_table, examples_table
from cli.resolve import resolve_expert

app = typer.Typer(help="Build, list, show and download training datasets.", no_args_is_help=True)

GENERATORS = ("auto", "offline", "backend")
FORMATS = ("chat", "alpaca", "preference")
SPLITS = ("train", "val")
POLL_S = 0.5
MAX_MANUAL_CHARS = 99_000

ExpertArg = typer.Argument(..., metavar="EXPERT", help="The expert's id or exact name.")
DatasetArg = typer.Argument(..., metavar="DATASET_ID", help="The dataset version's id.")


def one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise CliError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


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


def follow(client: Client, dataset_id: str, timeout: float) -> dict:
    """Show the build's stage and progress until it is no longer building; its last view."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    deadline = time.monotonic() + timeout
    with Progress(*columns, console=console, transient=True) as progress:
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


def print_outcome(client: Client, view: dict) -> None:
    if view["status"] == "failed":
        raise CliError(f"the build of version {view['version']} failed: {view['reason']}")
    if view["status"] == "cancelled":
        raise CliError(f"the build of version {view['version']} was cancelled")
    console.print(dataset_details(view))
    rejections = client.get(f"/api/datasets/{view['id']}/rejections")["rejections"]
    for r in rejections[:10]:
        line = Text(f"  left out ({r['code']}): ", style="dim")
        line.append(f"{r['question'] or '—'} — {r['detail']}")
        console.print(line)
    if len(rejections) > 10:
        console.print(Text(f"  … and {len(rejections) - 10} more"))


@app.command("build")
@friendly
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
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    sources: dict = {"feedback": feedback}
    if questions:
        sources["knowledge"] = {"questions": questions, "generator": generator}
    if traces:
        sources["traces"] = {"min_quality": min_quality, "min_rating": min_rating}
    body: dict = {"sources": sources, "max_examples": max_examples, "seed": seed}
    if manual:
        body["manual_jsonl"] = manual_text(manual)
    started = client.request("POST", f"/api/experts/{found['id']}/datasets", json=body)
    console.print(Text(f"Building version {started['version']} (id {started['dataset_id']})."))
    print_outcome(client, follow(client, started["dataset_id"], timeout))


@app.command("list")
@friendly
def list_versions(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """List an expert's dataset versions, newest first."""
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    views = client.get(f"/api/experts/{found['id']}/datasets")
    if not views:
        console.print(
            Text(f"{found['name']} has no datasets yet. Build one with: simtune datasets build")
        )
        return
    console.print(datasets_table(views, title=f"Datasets of {found['name']}"))


@app.command("show")
@friendly
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
    print_outcome(client, view)
    if limit:
        page = client.get(f"/api/datasets/{dataset_id}/examples", limit=limit)
        title = f"The first {len(page['examples'])} of {page['total']} examples"
        console.print(examples_table(page["examples"], title))


@app.command("export")
@friendly
def export(
    ctx: typer.Context,
    dataset_id: str = DatasetArg,
    format: str = typer.Option("chat", "--format", help="chat, alpaca or preference."),
    split: str = typer.Option("train", "--split", help="train or val."),
    output: Path | None = typer.Option(None, "-o", "--output", help="File (default: stdout)."),
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
    console.print(Text(f"Wrote {lines} examples ({format}, {split}) to {output}."))
