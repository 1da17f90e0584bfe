"""`simtune bench questions`: the questions an expert is benchmarked on — list them, add or
import custom ones, remove one, and write its own set from its documents.

An import sends the JSONL file as it is: the gateway checks every line and names the first
bad one, so the rules live in one place and the CLI never accepts what the console refuses.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from cli.bench_views import questions_table
from cli.client import CliError, client_from, friendly
from cli.render import console
from cli.resolve import resolve_expert

app = typer.Typer(
    help="The questions an expert is benchmarked on: list, add, import, remove, generate.",
    no_args_is_help=True,
)

SUITES = ("builtin", "expert", "custom")
KINDS = ("text", "value")
PATH = "/api/benchmark/questions"

ExpertArg = typer.Argument(..., metavar="EXPERT", help="The expert's id or exact name.")


@app.command("list")
@friendly
def list_questions(
    ctx: typer.Context,
    expert: str = ExpertArg,
    suite: str | None = typer.Option(None, "--suite", help="Only builtin, expert or custom."),
) -> None:
    """List the questions an expert can be benchmarked on."""
    if suite is not None and suite not in SUITES:
        raise CliError(f"--suite must be one of {', '.join(SUITES)}, not {suite!r}")
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    params = {"expert_id": found["id"]} | ({"suite": suite} if suite else {})
    questions = client.get(PATH, **params)
    if not questions:
        which = f"{suite} questions" if suite else "questions"
        console.print(Text(f"{found['name']} has no {which} yet."))
        return
    console.print(questions_table(questions, f"Benchmark questions of {found['name']}"))


@app.command("add")
@friendly
def add(
    ctx: typer.Context,
    expert: str = ExpertArg,
    question: str = typer.Option(..., "--question", help="What to ask."),
    reference: str = typer.Option(..., "--reference", help="The expected answer."),
    kind: str = typer.Option(
        "text", "--kind", help="text (scored by meaning) or value (an exact or numeric answer)."
    ),
    domain: str = typer.Option("custom", "--domain", help="The topic it is scored under."),
    rubric: str = typer.Option("", "--rubric", help="What a good answer must do."),
) -> None:
    """Add a custom question to an expert's own suite."""
    if kind not in KINDS:
        raise CliError(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    params = {"expert_id": found["id"]}
    before = {q["id"] for q in client.get(PATH, **params, suite="custom")}
    body = {
        "question": question,
        "reference": reference,
        "kind": kind,
        "domain": domain,
        "rubric": rubric,
    }
    # The gateway names the question and answers with every custom one: the new id is the
    # one that was not there before.
    after = client.request("POST", PATH, params=params, json=[body])
    added = ", ".join(q["id"] for q in after if q["id"] not in before)
    console.print(Text(f"Added question {added} to the custom suite of {found['name']}."))


@app.command("import")
@friendly
def import_questions(
    ctx: typer.Context,
    expert: str = ExpertArg,
    file: Path = typer.Argument(
        ...,
        metavar="FILE.jsonl",
        exists=True,
        dir_okay=False,
        readable=True,
        help="One JSON object a line: question, reference, and optionally kind, domain, rubric.",
    ),
) -> None:
    """Import custom questions from a JSONL file; nothing is added if one line is bad."""
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror}") from exc
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    imported = client.request(
        "POST",
        f"{PATH}/import",
        params={"expert_id": found["id"]},
        content=content,
        headers={"Content-Type": "application/x-ndjson"},
    )
    lines = sum(1 for line in content.splitlines() if line.strip())
    console.print(
        Text(
            f"Imported {lines} questions from {file.name}; {found['name']} has"
            f" {len(imported)} custom questions."
        )
    )


@app.command("remove")
@friendly
def remove(
    ctx: typer.Context,
    expert: str = ExpertArg,
    question_id: str = typer.Argument(..., metavar="QUESTION_ID", help="The question's id."),
) -> None:
    """Remove a custom question."""
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    client.request("DELETE", f"{PATH}/{question_id}", params={"expert_id": found["id"]})
    console.print(Text(f"Removed question {question_id} from {found['name']}."))


@app.command("generate")
@friendly
def generate(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """Write the expert's own suite from its documents (replaces the last one)."""
    # The gateway takes the held-out examples of the newest ready dataset, never trained on,
    # so an adapter cannot pass them by having memorised them.
    client = client_from(ctx)
    found = resolve_expert(client.get("/api/experts"), expert)
    written = client.request("POST", f"{PATH}/generate", params={"expert_id": found["id"]})
    console.print(Text(f"Wrote {len(written)} questions from the documents of {found['name']}."))
