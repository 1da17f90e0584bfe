"""`simtune benchmark` against the real gateway, benchmark service and the session's tiny model
(it answers 8 tokens, so a quick run takes seconds): a quick run of the base model followed to
its composite and five domains, then listed, shown with its questions, compared in the
summary, exported as CSV that `csv` reads back, and left as it was by a late cancel; custom
questions added, listed, removed and imported, a bad JSONL line named; Ctrl-C that cancels a
run, and a run queued without following then cancelled; a diagnosis without the expert's own
questions, a bad cron and bad choices as one line and exit 1."""

from __future__ import annotations

import csv
import json
import re

import pytest
import transformers.utils.logging

import cli.benchmark.follow
from tests.integration.test_cli import expert_fixture, one_line_error, simtune, unique  # noqa: F401

pytestmark = pytest.mark.integration

DOMAINS = ("mathematics", "coding", "science", "reasoning", "creative")


@pytest.fixture(autouse=True)
def quiet_model_loading(monkeypatch) -> None:
    """The services run in this process, so the progress bar of a model loaded during a run
    would land in the command's captured stderr, which must hold only the one error line
    (transformers' own switch: tqdm reads its environment only when it is imported)."""
    monkeypatch.setattr(transformers.utils.logging, "_tqdm_active", False)


expert = expert_fixture("Surveyor")


async def test_a_quick_run_follows_to_its_composite_then_lists_shows_and_exports(
    simtune,  # noqa: F811
    api,
    expert,
    tmp_path,
):
    name = expert["name"]
    ran = await simtune("benchmark", "run", name, "--size", "quick", "--adapter", "base")
    assert ran.exit_code == 0, ran.stderr
    out = ran.stdout
    run_id = re.search(rf"Queued benchmark run (\w+) of {name} \(builtin, quick\)", out).group(1)
    assert "on the base model" in out
    view = (await api.get(f"/api/benchmark/{run_id}")).json()
    assert view["status"] == "succeeded" and view["answered"] == view["total"] == 10
    shown_composite = f"{view['composite_score']:.1f} / 100"
    assert f"Benchmark run {run_id} succeeded: {shown_composite} (95% CI" in out
    assert f"{view['ci_low']:.1f}–{view['ci_high']:.1f}" in out
    for label in ("Avg quality", "Response time", "Tokens/s", "Early termination"):
        assert label in out, out
    for domain in DOMAINS:
        assert re.search(rf"{domain}\s+│\s+\d+%", out), out

    listed = await simtune("benchmark", "list", name, "--adapter", "base")
    assert listed.exit_code == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if run_id in line)
    assert "succeeded" in row and "10/10" in row and "the base model" in row
    assert shown_composite in row

    shown = await simtune("benchmark", "show", run_id)
    assert shown.exit_code == 0, shown.stderr
    scored = (await api.get(f"/api/benchmark/{run_id}/results")).json()
    assert "Questions" in shown.stdout and shown_composite in shown.stdout
    for result in scored["results"]:
        assert re.search(rf"{result['question_id']}\s.*{result['score']:.2f}", shown.stdout)

    ended = await simtune("benchmark", "cancel", run_id)
    assert ended.exit_code == 0 and f"run {run_id} had already succeeded" in ended.stdout

    # `bench`, the group's earlier name, still works (hidden from the help) for old scripts.
    summary = await simtune("bench", "summary", name)
    assert summary.exit_code == 0, summary.stderr
    base_row = next(line for line in summary.stdout.splitlines() if "base model" in line)
    assert shown_composite in base_row and run_id in base_row
    assert "No alerts." in summary.stdout

    target = tmp_path / "runs.csv"
    exported = await simtune("benchmark", "export", name, "--format", "csv", "-o", str(target))
    assert exported.exit_code == 0, exported.stderr
    assert f"to {target}" in exported.stdout
    [line] = list(csv.DictReader(target.open(encoding="utf-8")))
    assert line["id"] == run_id and float(line["composite_score"]) == view["composite_score"]
    assert {f"domain:{d}" for d in DOMAINS} <= set(line)

    as_json = tmp_path / "runs.json"
    assert (await simtune("benchmark", "export", name, "-o", str(as_json))).exit_code == 0
    assert [r["id"] for r in json.loads(as_json.read_text())] == [run_id]


async def test_custom_questions_are_added_listed_removed_and_imported(simtune, expert, tmp_path):  # noqa: F811
    name = expert["name"]
    one_line_error(
        await simtune("benchmark", "run", name, "--suite", "custom"), "no custom questions"
    )
    added = await simtune(
        "benchmark", "questions", "add", name, "--question", "How many steps to the lamp room?",
        "--reference", "117", "--kind", "value", "--domain", "lighthouse",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    question_id = re.search(rf"Added question ([\w-]+) to the custom suite of {name}", added.stdout)
    question_id = question_id.group(1)

    listed = await simtune("benchmark", "questions", "list", name, "--suite", "custom")
    assert listed.exit_code == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if question_id in line)
    assert "lighthouse" in row and "value" in row and "117" in row
    everything = await simtune("benchmark", "questions", "list", name)
    assert question_id in everything.stdout and "builtin" in everything.stdout

    removed = await simtune("benchmark", "questions", "remove", name, question_id)
    assert removed.exit_code == 0 and f"Removed question {question_id}" in removed.stdout
    empty = await simtune("benchmark", "questions", "list", name, "--suite", "custom")
    assert empty.exit_code == 0 and "has no custom questions yet" in empty.stdout

    bad = tmp_path / "bad.jsonl"
    lines = [{"question": "Who keeps the log?", "reference": "The keeper."}, {"question": "?"}]
    bad.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    one_line_error(await simtune("benchmark", "questions", "import", name, str(bad)), "line 2")
    good = tmp_path / "good.jsonl"
    lines[1] = {"question": "What colour is the lamp?", "reference": "White", "kind": "value"}
    good.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    imported = await simtune("benchmark", "questions", "import", name, str(good))
    assert imported.exit_code == 0, imported.stderr
    assert f"Imported 2 questions from good.jsonl; {name} has 2 custom" in imported.stdout
    one_line_error(
        await simtune("benchmark", "questions", "add", name, "--question", "a", "--reference", "b",
                      "--kind", "essay"),
        "--kind", "text, value",
    )  # fmt: skip


async def test_ctrl_c_cancels_the_run_and_a_run_queued_without_following_is_cancelled(
    simtune,  # noqa: F811
    api,
    expert,
    monkeypatch,
):
    read = cli.benchmark.follow.view

    def interrupted_after_an_answer(client, run_id, queued_at):
        run = read(client, run_id, queued_at)
        if run is not None and run["answered"] > 0:
            raise KeyboardInterrupt
        return run

    monkeypatch.setattr(cli.benchmark.follow, "view", interrupted_after_an_answer)
    full = ("benchmark", "run", expert["name"], "--size", "full", "--adapter", "base")
    cancelled = await simtune(*full, input="y\n")
    run_id = re.search(r"Queued benchmark run (\w+)", cancelled.stdout).group(1)
    one_line_error(cancelled, f"benchmark run {run_id} was cancelled")
    assert f"Cancel benchmark run {run_id}?" in cancelled.stdout
    assert (await api.get(f"/api/benchmark/{run_id}")).json()["status"] == "cancelled"

    queued = await simtune(*full, "--no-follow")
    assert queued.exit_code == 0, queued.stderr
    [other] = queued.stdout.split()  # only the run id, for scripts
    stopped = await simtune("benchmark", "cancel", other)
    assert stopped.exit_code == 0 and f"Cancelled benchmark run {other}." in stopped.stdout


async def test_errors_are_one_line_and_exit_1(simtune, expert):  # noqa: F811
    name = expert["name"]
    one_line_error(await simtune("benchmark", "diagnose", name), "no questions from its documents")
    one_line_error(await simtune("benchmark", "questions", "generate", name), "no ready training")
    one_line_error(
        await simtune("benchmark", "settings", name, "--schedule", "every night"),
        "cron", "every night",
    )  # fmt: skip
    one_line_error(await simtune("benchmark", "run", name, "--suite", "all"), "--suite", "builtin")
    one_line_error(await simtune("benchmark", "run", name, "--size", "huge"), "--size", "quick")
    one_line_error(await simtune("benchmark", "run", name, "--adapter", "zzz"), "no adapter", "zzz")
    one_line_error(await simtune("benchmark", "export", name, "--format", "xml"), "--format")
    one_line_error(await simtune("benchmark", "show", "nope"), "nope", "not found")
    one_line_error(await simtune("benchmark", "list", unique("Nobody")), "no expert")

    changed = await simtune(
        "benchmark", "settings", name, "--always-promote", "--margin", "5",
        "--no-after-training", "--schedule", "0 3 * * *",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.stderr
    out = changed.stdout
    assert f"Saved the benchmark settings of {name}." in out
    assert re.search(r"Promote a new adapter\s+always", out)
    assert re.search(r"Run after training\s+no", out) and "0 3 * * *" in out
    kept = await simtune("benchmark", "settings", name, "--promote-only-if-better")
    assert re.search(r"only if better by 5 composite points", kept.stdout), kept.stdout
    assert "0 3 * * *" in kept.stdout


async def test_a_failed_run_exits_1_with_its_reason_on_one_line(simtune, expert, monkeypatch):  # noqa: F811
    """The service fails a run only after its expert stayed unreachable through every retry,
    which takes minutes; here the follower reads the real run as the gateway shows a failed
    one, so what is tested is what the command does with it."""
    read = cli.benchmark.follow.view
    reason = "The benchmark stopped and could not go on: the expert service is not running"

    def failing(client, run_id, queued_at):
        run = read(client, run_id, queued_at)
        return run and {**run, "status": "failed", "error": reason}

    monkeypatch.setattr(cli.benchmark.follow, "view", failing)
    failed = await simtune("benchmark", "run", expert["name"], "--adapter", "base")
    run_id = re.search(r"Queued benchmark run (\w+)", failed.stdout).group(1)
    one_line_error(failed, f"benchmark run {run_id} failed: {reason}")
    assert failed.exit_code == 1
