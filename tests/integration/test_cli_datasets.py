"""`simtune datasets` against the real gateway: build from a JSONL file (following the build
to its end), list the versions, show one, export it to a file and to stdout, and bad input
(a broken line, an unknown format, an unknown dataset) as one readable line and exit 1."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.test_cli import Simtune, one_line_error, simtune, unique  # noqa: F401

pytestmark = pytest.mark.integration

EXAMPLES = [
    {"question": f"When does ferry {n} leave?", "answer": f"Ferry {n} leaves at {n + 6} o'clock."}
    for n in range(10)
]


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


@pytest.fixture
async def expert_name(simtune) -> str:  # noqa: F811
    name = unique("Ferries")
    created = await simtune("experts", "create", name)
    assert created.exit_code == 0, created.stderr
    return name


async def build(simtune, name: str, manual, *more: str):  # noqa: F811
    return await simtune(
        "datasets", "build", name, "--manual", str(manual), "--questions", "0", "--no-traces",
        "--no-feedback", *more,
    )  # fmt: skip


async def test_build_list_show_and_export(simtune, expert_name, tmp_path):  # noqa: F811
    manual = tmp_path / "ferries.jsonl"
    manual.write_text(jsonl([*EXAMPLES, EXAMPLES[0]]))
    built = await build(simtune, expert_name, manual, "--seed", "3")
    assert built.exit_code == 0, built.stderr
    out = built.stdout
    dataset_id = re.search(r"Building version 1 \(id (\w+)\)", out).group(1)
    for text in ("ready", "manual 10", "duplicate 1", "needs 40 more examples before training"):
        assert text in out, out
    assert "left out (duplicate): When does ferry 0 leave?" in out

    again = await build(simtune, expert_name, manual, "--seed", "3")
    assert again.exit_code == 0 and "Building version 2" in again.stdout

    listed = await simtune("datasets", "list", expert_name)
    assert listed.exit_code == 0, listed.stderr
    second_id = re.search(r"Building version 2 \(id (\w+)\)", again.stdout).group(1)
    assert "manual 10" in listed.stdout
    assert listed.stdout.index(second_id) < listed.stdout.index(dataset_id)  # newest first

    shown = await simtune("datasets", "show", dataset_id, "--limit", "3")
    assert shown.exit_code == 0, shown.stderr
    assert "The first 3 of 10 examples" in shown.stdout and "Ferry" in shown.stdout

    target = tmp_path / "train.jsonl"
    exported = await simtune("datasets", "export", dataset_id, "-o", str(target))
    assert exported.exit_code == 0, exported.stderr
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert rows and all(r["messages"][-1]["role"] == "assistant" for r in rows)
    assert f"Wrote {len(rows)} examples" in exported.stdout

    val = await simtune("datasets", "export", dataset_id, "--format", "alpaca", "--split", "val")
    assert val.exit_code == 0, val.stderr
    # the in-process gateway logs to the same stdout: only the JSON lines are the export
    alpaca = [json.loads(line) for line in val.stdout.splitlines() if line.startswith("{")]
    assert len(rows) + len(alpaca) == 10
    assert all(set(r) == {"instruction", "input", "output"} for r in alpaca)


async def test_bad_input_is_one_line_and_exit_1(simtune, expert_name, tmp_path):  # noqa: F811
    manual = tmp_path / "broken.jsonl"
    manual.write_text(jsonl(EXAMPLES[:2]) + "\n" + '{"question": "No answer?"}\n')
    one_line_error(await build(simtune, expert_name, manual), "line 4", "answer is missing")
    listed = await simtune("datasets", "list", expert_name)
    assert "no datasets yet" in listed.stdout

    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b'{"question": "a", "answer": "b"}\n\xff\xfe\n')
    one_line_error(await build(simtune, expert_name, binary), "line 2", "UTF-8")
    one_line_error(
        await simtune("datasets", "build", expert_name, "--generator", "magic"), "--generator"
    )
    nothing = await simtune(
        "datasets", "build", expert_name, "--questions", "0", "--no-traces", "--no-feedback"
    )
    one_line_error(nothing, "source")
    one_line_error(await simtune("datasets", "show", "nope"), "nope", "not found")
    one_line_error(await simtune("datasets", "export", "nope", "--format", "csv"), "--format")
    one_line_error(await simtune("datasets", "list", unique("Nobody")), "no expert")


async def test_a_failed_build_is_one_line_and_exit_1(simtune, expert_name, tmp_path):  # noqa: F811
    notes = tmp_path / "notes.txt"
    notes.write_text("The ferry to Velmora leaves from the east quay every morning. " * 30)
    assert (await simtune("ingest", expert_name, str(notes))).exit_code == 0
    dead = ("--base-url", "http://127.0.0.1:9/v1", "--model", "x", "--timeout", "2")
    assert (await simtune("backend", "set", expert_name, "openai", *dead)).exit_code == 0
    failed = await simtune(
        "datasets", "build", expert_name, "--questions", "2", "--generator", "backend",
        "--no-traces", "--no-feedback",
    )  # fmt: skip
    one_line_error(failed, "version 1 failed", "could not")
