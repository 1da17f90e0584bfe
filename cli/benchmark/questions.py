"""`simtune benchmark questions`: the questions an expert is benchmarked on — list them, add
or import custom ones, remove one, and write its own set from its documents.

An import sends the JSONL file as it is: the gateway checks every line and names the first
bad one, so the rules live in one place and the CLI never accepts what the console refuses.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.args import ExpertArg, expert_of, input_file, one_of
from cli.benchmark.views import questions_table
from cli.client import CliError, command
from cli.render import print_list, say

app = typer.Typer(
    help="The questions an expert is benchmarked on: list, add, import, remove, generate.",
    no_args_is_help=True,
)

SUITES = ("builtin", "expert", "custom")
KINDS = ("text", "value")
PATH = "/api/benchmark/questions"


@command(app, "list")
def list_questions(
    ctx: typer.Context,
    expert: str = ExpertArg,
    suite: str | None = typer.Option(None, "--suite", help="Only builtin, expert or custom."),
) -> None:
    """List the questions an expert can be benchmarked on."""
    one_of("--suite", suite, SUITES)
    client, found = expert_of(ctx, expert)
    params = {"expert_id": found["id"]} | ({"suite": suite} if suite else {})
    empty = f"{found['name']} has no {f'{suite} questions' if suite else 'questions'} yet."
    title = f"Benchmark questions of {found['name']}"
    print_list(client.get(PATH, **params), questions_table, empty, title)


@command(app, "add")
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
    one_of("--kind", kind, KINDS)
    client, found = expert_of(ctx, expert)
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
    say(f"Added question {added} to the custom suite of {found['name']}.")


@command(app, "import")
def import_questions(
    ctx: typer.Context,
    expert: str = ExpertArg,
    file: Path = input_file(
        "FILE.jsonl",
        "One JSON object a line: question, reference, and optionally kind, domain, rubric.",
    ),
) -> None:
    """Import custom questions from a JSONL file; nothing is added if one line is bad."""
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror}") from exc
    client, found = expert_of(ctx, expert)
    imported = client.request(
        "POST",
        f"{PATH}/import",
        params={"expert_id": found["id"]},
        content=content,
        headers={"Content-Type": "application/x-ndjson"},
    )
    lines = sum(1 for line in content.splitlines() if line.strip())
    say(
        f"Imported {lines} questions from {file.name}; {found['name']} has"
        f" {len(imported)} custom questions."
    )


@command(app, "remove")
def remove(
    ctx: typer.Context,
    expert: str = ExpertArg,
    question_id: str = typer.Argument(..., metavar="QUESTION_ID", help="The question's id."),
) -> None:
    """Remove a custom question."""
    client, found = expert_of(ctx, expert)
    client.request("DELETE", f"{PATH}/{question_id}", params={"expert_id": found["id"]})
    say(f"Removed question {question_id} from {found['name']}.")


@command(app, "generate")
def generate(ctx: typer.Context, expert: str = ExpertArg) -> None:
    """Write the expert's own suite from its documents (replaces the last one)."""
    # The gateway takes the held-out examples of the newest ready dataset, never trained on,
    # so an adapter cannot pass them by having memorised them.
    client, found = expert_of(ctx, expert)
    written = client.request("POST", f"{PATH}/generate", params={"expert_id": found["id"]})
    say(f"Wrote {len(written)} questions from the documents of {found['name']}.")
