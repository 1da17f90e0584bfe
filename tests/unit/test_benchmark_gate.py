"""The gate a fine-tune's promotion passes, pure: it must win on the expert's own questions by
the margin and may not fall on the built-in bank by more than the tolerance; and when the
expert's own set is written again. Events written before the gate still decode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.benchmark import BenchSettings, ExpertSetGenerated, Question
from runtime.codec import decode_event
from services.benchmark import domain
from services.benchmark.gate import FORGETTING_TOLERANCE_POINTS, Measured, decide

SETTINGS = BenchSettings()  # promote only if better, by 2 points


def run(run_id: str, adapter: str | None, suite: str, composite: float | None,
        status: str = "succeeded", unanswered: int = 0) -> Measured:  # fmt: skip
    return Measured(run_id, adapter, suite, status, composite, unanswered)


def gate(own: float, own_active: float, bank: float | None, bank_active: float | None, **kw):
    return decide(
        run("c", "new", "expert", own), run("a", "old", "expert", own_active),
        None if bank is None else run("g", "new", "builtin", bank, **kw),
        None if bank_active is None else run("ga", "old", "builtin", bank_active),
        SETTINGS, "old",
    )  # fmt: skip


def test_a_candidate_that_wins_its_own_questions_and_keeps_the_bank_is_promoted():
    verdict = gate(70.0, 60.0, 48.0, 50.0)
    assert verdict.promoted and verdict.delta == pytest.approx(10.0)
    assert verdict.guard_delta == pytest.approx(-2.0)
    assert "its own questions" in verdict.reason and "built-in bank" in verdict.reason


def test_a_candidate_that_wins_its_own_questions_but_forgets_the_bank_is_held_back():
    verdict = gate(80.0, 60.0, 50.0 - FORGETTING_TOLERANCE_POINTS - 0.5, 50.0)
    assert not verdict.promoted and verdict.delta == pytest.approx(20.0)
    assert verdict.guard_delta == pytest.approx(-10.5)
    assert "held back" in verdict.reason and "forget" in verdict.reason
    assert f"at most {FORGETTING_TOLERANCE_POINTS:g} lower" in verdict.reason
    assert len(verdict.reason) <= 500  # a PromotionDecided's reason
    at_the_edge = gate(80.0, 60.0, 50.0 - FORGETTING_TOLERANCE_POINTS, 50.0)
    assert at_the_edge.promoted


def test_a_candidate_that_does_not_win_its_own_questions_is_held_back_whatever_the_bank():
    verdict = gate(61.0, 60.0, 90.0, 50.0)
    assert not verdict.promoted and "it must win by 2" in verdict.reason


def test_a_guard_that_did_not_finish_holds_the_candidate_back():
    failed = decide(
        run("c", "new", "expert", 80.0), run("a", "old", "expert", 60.0),
        run("g", "new", "builtin", None, status="failed"), run("ga", "old", "builtin", 50.0),
        SETTINGS, "old",
    )  # fmt: skip
    assert not failed.promoted and "guards against forgetting failed" in failed.reason
    unanswered = gate(80.0, 60.0, 50.0, 50.0, unanswered=2)
    assert not unanswered.promoted and "2 built-in questions" in unanswered.reason


def test_without_an_own_set_the_bank_alone_decides_and_the_active_version_must_still_match():
    alone = decide(run("c", "new", "builtin", 55.0), run("a", "old", "builtin", 50.0), None,
                   None, SETTINGS, "old")  # fmt: skip
    assert alone.promoted and alone.guard_delta is None and "built-in bank" in alone.reason
    moved = decide(
        run("c", "new", "expert", 80.0),
        run("a", "old", "expert", 50.0),
        None,
        None,
        SETTINGS,
        "other",
    )  # a person activated another version meanwhile
    assert not moved.promoted and "meanwhile" in moved.reason
    off = decide(run("c", "new", "expert", 10.0), run("a", "old", "expert", 90.0), None, None,
                 BenchSettings(promote_only_if_better=False), "old")  # fmt: skip
    assert off.promoted


KB = Question(id="kb-001", domain="rules", question="Q?", reference="R.", kind="knowledge")


def test_the_own_set_is_written_again_only_from_a_newer_dataset():
    assert domain.set_is_older(domain.BENCH, "ds2", 2)  # no set yet
    state = domain.evolve_bench(domain.BENCH, ExpertSetGenerated(
        expert_id="e1", questions=[KB], documents=1, dataset_id="ds2", dataset_version=2,
    ))  # fmt: skip
    assert (state.set_dataset_id, state.set_dataset_version) == ("ds2", 2)
    assert not domain.set_is_older(state, "ds2", 2)  # the same dataset
    assert not domain.set_is_older(state, "ds1", 1)  # an older one
    assert domain.set_is_older(state, "ds3", 3)
    unrecorded = domain.evolve_bench(domain.BENCH, ExpertSetGenerated(
        expert_id="e1", questions=[KB], documents=1))  # fmt: skip
    assert domain.set_is_older(unrecorded, "ds1", 1)  # written before datasets were recorded


GOLDEN = Path(__file__).parent.parent / "golden"


@pytest.mark.parametrize(
    ("event", "new_fields"),
    [
        ("benchmark.ExpertSetGenerated", ("dataset_id", "dataset_version", "trigger")),
        ("benchmark.PromotionDecided", ("guard_run_id", "guard_delta_points")),
        ("benchmark.BenchmarkQueued", ("gate",)),
    ],
)
def test_events_written_before_the_gate_still_decode(event, new_fields):
    older = json.loads((GOLDEN / f"{event}.json").read_text())
    for name in new_fields:
        del older[name]
    decoded = decode_event(json.dumps(older).encode())
    assert all(getattr(decoded, n) in (None, "api") for n in new_fields)
