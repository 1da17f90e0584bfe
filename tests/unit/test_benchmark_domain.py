"""The benchmark context's pure parts: a run's life, the bench's questions, the diagnosis's
verdict in plain words, and when a schedule is due."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from contracts.base import DomainError
from contracts.benchmark import (
    BenchmarkQueued,
    DiagnosisStep,
    PromotionDecided,
    Question,
    QuestionResult,
)
from services.benchmark import domain
from services.benchmark.diagnosis import verdict
from services.benchmark.reactors.schedule import due

QUESTION = Question(id="q1", domain="log", question="What?", reference="This.")


def queued() -> BenchmarkQueued:
    return BenchmarkQueued(run_id="r1", expert_id="e1", suite="custom", size="quick",
                           adapter_id=None, questions=[QUESTION])  # fmt: skip


def result(score: float = 1.0) -> QuestionResult:
    return QuestionResult(question_id="q1", domain="log", answer="This.", score=score,
                          scorer="overlap", scorer_version=1)  # fmt: skip


def test_a_run_is_scored_once_per_question_and_ends_once():
    state = domain.evolve_run(domain.RUN, queued())
    started = domain.decide_start(state, "r1")
    state = domain.evolve_run(state, started)
    assert started.attempt == 1 and state.status == "running"
    scored = domain.decide_scored(state, "r1", 0, result())
    state = domain.evolve_run(state, scored)
    assert domain.decide_scored(state, "r1", 0, result(0.0)) is None  # a redelivery
    state = domain.evolve_run(state, domain.decide_cancel(state, "r1"))
    assert state.status == "cancelled"
    assert domain.decide_cancel(state, "r1") is None
    assert domain.decide_start(state, "r1") is None
    assert domain.decide_failed(state, "r1", "late") is None


def test_cancelling_an_unknown_run_is_a_404():
    with pytest.raises(DomainError) as unknown:
        domain.decide_cancel(domain.RUN, "nope")
    assert unknown.value.status == 404


def test_custom_questions_are_added_as_custom_and_removed_by_id():
    added = domain.decide_add(domain.BENCH, "e1", [QUESTION])
    assert added.questions[0].source == "custom"
    state = domain.evolve_bench(domain.BENCH, added)
    with pytest.raises(DomainError, match="same id"):
        domain.decide_add(state, "e1", [QUESTION, QUESTION])
    state = domain.evolve_bench(state, domain.decide_remove(state, "e1", "q1"))
    assert state.custom == {}
    with pytest.raises(DomainError, match="not found"):
        domain.decide_remove(state, "e1", "q1")


def test_a_run_is_decided_on_once():
    decided = PromotionDecided(expert_id="e1", adapter_id="a1", run_id="r1", promoted=True,
                               reason="activated")  # fmt: skip
    assert domain.once_per_run(decided)(domain.BENCH) is decided
    state = domain.evolve_bench(domain.BENCH, decided)
    assert domain.once_per_run(decided)(state) is None


def steps(closed, rag, tuned=None):
    made = [
        DiagnosisStep(setup="closed_book", run_id="a", composite=None, avg_quality=closed),
        DiagnosisStep(setup="retrieval", run_id="b", composite=None, avg_quality=rag),
    ]
    if tuned is not None:
        made.append(DiagnosisStep(setup="adapter", run_id="c", composite=None, avg_quality=tuned))
    return made


@pytest.mark.parametrize(
    ("closed", "rag", "tuned", "said"),
    [
        (0.20, 0.22, None, "Fix retrieval or add documents"),
        (0.20, 0.45, None, "Fine-tune"),
        (0.20, 0.45, 0.30, "The active adapter makes answers worse"),
        (0.30, 0.80, 0.82, "answers its own questions well"),
    ],
)
def test_the_diagnosis_says_what_to_do(closed, rag, tuned, said):
    sentence, evidence = verdict(steps(closed, rag, tuned))
    assert said in sentence
    assert evidence[0].startswith("Closed book: ") and f"{rag:.0%}" in evidence[1]


def test_a_schedule_is_due_once_per_tick():
    since = datetime(2026, 11, 26, 2, 59, tzinfo=UTC)
    now = datetime(2026, 11, 26, 3, 0, 30, tzinfo=UTC)
    assert due("0 3 * * *", since, now) == datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    assert due("0 3 * * *", now, datetime(2026, 11, 26, 3, 1, 30, tzinfo=UTC)) is None
    assert due("off", since, now) is None


@pytest.mark.parametrize(
    ("unanswered", "ends"), [(0, "succeeded"), (1, "succeeded"), (2, "failed")]
)
def test_a_run_with_too_many_unanswered_questions_ends_failed_not_scored(unanswered, ends):
    from contracts.benchmark import BenchmarkCompleted, BenchMetrics

    state = domain.evolve_run(domain.RUN, queued())
    outage = msgspec.structs.replace(result(0.0), error="the model server answered 500")
    for i in range(10):
        scored = domain.decide_scored(state, "r1", i, outage if i < unanswered else result())
        state = domain.evolve_run(state, scored)
    completed = BenchmarkCompleted(
        run_id="r1", metrics=BenchMetrics(questions=10, composite=50.0, avg_quality=0.5)
    )
    ending = domain.decide_ending(state, "r1", completed)
    assert domain.evolve_run(state, ending).status == ends
    if ends == "failed":
        assert ending.reason.startswith("2 of 10 questions could not be answered")
        assert "the model server answered 500" in ending.reason
