"""One benchmark run, pure: its life (queued → running → one ending) and its scored answers,
folded from events and decided on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import (
    BenchmarkCancelled,
    BenchmarkCompleted,
    BenchmarkFailed,
    BenchmarkQueued,
    BenchmarkRescored,
    BenchmarkStarted,
    BenchMetrics,
    QuestionResult,
    QuestionScored,
)


@dataclass(frozen=True)
class RunState:
    queued: BenchmarkQueued | None = None
    status: str = "none"
    attempt: int = 0
    results: dict[int, QuestionResult] = field(default_factory=dict)  # by question index
    completed: BenchmarkCompleted | None = None
    scorer_version: int = 0
    metrics: BenchMetrics | None = None  # as completed, or as rescored since


RUN = RunState()
ERRORS_ALLOWED = 0.1  # a run with more of its questions unanswered than this is no measure


def unanswered(state: RunState) -> list[QuestionResult]:
    """The questions the expert could not answer (an error, not a wrong answer)."""
    return [r for r in state.results.values() if r.error is not None]


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
            return replace(state, status="succeeded", completed=ev, metrics=ev.metrics)
        case BenchmarkFailed():
            return replace(state, status="failed")
        case BenchmarkCancelled():
            return replace(state, status="cancelled")
        case BenchmarkRescored() as ev:
            results = dict(enumerate(ev.results))
            return replace(
                state, results=results, scorer_version=ev.scorer_version, metrics=ev.metrics
            )
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


def decide_ending(
    state: RunState, run_id: str, completed: BenchmarkCompleted
) -> BenchmarkCompleted | BenchmarkFailed | None:
    """The run's end: its score, unless too many of its questions could not be answered — a
    score made of failures would raise false alarms and promote or hold back on noise."""
    if not going(state):
        return None
    failed = unanswered(state)
    if len(failed) > ERRORS_ALLOWED * max(len(state.results), 1):
        reason = (
            f"{len(failed)} of {len(state.results)} questions could not be answered, so the run"
            f" is not scored; the first error: {failed[0].error}"
        )
        return BenchmarkFailed(run_id=run_id, reason=reason[:500])
    return completed
