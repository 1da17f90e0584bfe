"""The benchmark context, pure: an expert's bench (settings, question sets, decisions) and a
run's life (queued → running → one ending), folded from events and decided on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import msgspec

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import (
    BenchConfigured,
    BenchmarkCancelled,
    BenchmarkCompleted,
    BenchmarkFailed,
    BenchmarkQueued,
    BenchmarkRescored,
    BenchmarkStarted,
    BenchSettings,
    ExpertSetGenerated,
    PromotionDecided,
    Question,
    QuestionRemoved,
    QuestionResult,
    QuestionsAdded,
    QuestionScored,
    RegressionDetected,
)

MAX_CUSTOM = 1000


@dataclass(frozen=True)
class BenchState:
    settings: BenchSettings = field(default_factory=BenchSettings)
    custom: dict[str, Question] = field(default_factory=dict)
    expert_set: tuple[Question, ...] = ()
    decided: frozenset[str] = frozenset()  # runs a promotion or a regression was decided on


BENCH = BenchState()


def evolve_bench(state: BenchState, event: object) -> BenchState:
    match event:
        case BenchConfigured() as ev:
            return replace(state, settings=ev.settings)
        case QuestionsAdded() as ev:
            return replace(state, custom={**state.custom, **{q.id: q for q in ev.questions}})
        case QuestionRemoved() as ev:
            return replace(
                state, custom={k: v for k, v in state.custom.items() if k != ev.question_id}
            )
        case ExpertSetGenerated() as ev:
            return replace(state, expert_set=tuple(ev.questions))
        case PromotionDecided() | RegressionDetected() as ev:
            return replace(state, decided=state.decided | {ev.run_id})
    return state


def once_per_run(event: PromotionDecided | RegressionDetected):
    """Decide `event` unless its run was decided on already (a redelivery)."""
    return lambda state: None if event.run_id in state.decided else event


def decide_add(state: BenchState, expert_id: str, questions: list[Question]) -> QuestionsAdded:
    if not questions:
        raise DomainError(ErrorCode.INVALID, "there are no questions to add")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise DomainError(ErrorCode.INVALID, "two of the questions have the same id")
    if len(state.custom | dict.fromkeys(ids)) > MAX_CUSTOM:
        raise DomainError(ErrorCode.INVALID, f"an expert holds at most {MAX_CUSTOM} questions")
    custom = [msgspec.structs.replace(q, source="custom") for q in questions]
    return QuestionsAdded(expert_id=expert_id, questions=custom)


def decide_remove(state: BenchState, expert_id: str, question_id: str) -> QuestionRemoved:
    if question_id not in state.custom:
        raise DomainError(ErrorCode.NOT_FOUND, f"question {question_id} not found")
    return QuestionRemoved(expert_id=expert_id, question_id=question_id)


# ---- a run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunState:
    queued: BenchmarkQueued | None = None
    status: str = "none"
    attempt: int = 0
    results: dict[int, QuestionResult] = field(default_factory=dict)  # by question index
    completed: BenchmarkCompleted | None = None
    scorer_version: int = 0


RUN = RunState()
ENDED = ("succeeded", "failed", "cancelled")


def evolve_run(state: RunState, event: object) -> RunState:
    match event:
        case BenchmarkQueued() as ev:
            return replace(state, queued=ev, status="queued")
        case BenchmarkStarted() as ev:
            return replace(state, status="running", attempt=ev.attempt)
        case QuestionScored() as ev:
            results = {**state.results, ev.index: ev.result}
            return replace(state, results=results, scorer_version=ev.result.scorer_version)
        case BenchmarkCompleted() as ev:
            return replace(state, status="succeeded", completed=ev)
        case BenchmarkFailed():
            return replace(state, status="failed")
        case BenchmarkCancelled():
            return replace(state, status="cancelled")
        case BenchmarkRescored() as ev:
            results = dict(enumerate(ev.results))
            return replace(state, results=results, scorer_version=ev.scorer_version)
    return state


def going(state: RunState) -> bool:
    return state.status in ("queued", "running")


def decide_cancel(state: RunState, run_id: str) -> BenchmarkCancelled | None:
    if state.queued is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"benchmark run {run_id} not found")
    if not going(state):
        return None  # it has ended already: nothing to stop
    return BenchmarkCancelled(run_id=run_id)


def decide_start(state: RunState, run_id: str) -> BenchmarkStarted | None:
    if not going(state):
        return None
    return BenchmarkStarted(run_id=run_id, attempt=state.attempt + 1)


def decide_scored(state: RunState, run_id: str, index: int, result) -> QuestionScored | None:
    if not going(state) or index in state.results:
        return None
    return QuestionScored(run_id=run_id, index=index, result=result)


def decide_failed(state: RunState, run_id: str, reason: str) -> BenchmarkFailed | None:
    if not going(state):
        return None
    return BenchmarkFailed(run_id=run_id, reason=reason[:500])
