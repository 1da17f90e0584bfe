"""An expert's bench, pure: its settings, its question sets, and the runs a promotion or a
regression was decided on; folded from events and decided on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import msgspec
from croniter import croniter

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import (
    SIZES,
    BenchConfigured,
    BenchErased,
    BenchSettings,
    ExpertSetGenerated,
    PromotionDecided,
    Question,
    QuestionRemoved,
    QuestionsAdded,
    RegressionDetected,
)
from services.benchmark import bank

MAX_CUSTOM = 1000


@dataclass(frozen=True)
class BenchState:
    settings: BenchSettings = field(default_factory=BenchSettings)
    custom: dict[str, Question] = field(default_factory=dict)
    expert_set: tuple[Question, ...] = ()
    # The dataset version the expert set was written from (None: not recorded, or no set).
    set_dataset_id: str | None = None
    set_dataset_version: int | None = None
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
            return replace(
                state, expert_set=tuple(ev.questions), set_dataset_id=ev.dataset_id,
                set_dataset_version=ev.dataset_version,
            )  # fmt: skip
        case PromotionDecided() | RegressionDetected() as ev:
            return replace(state, decided=state.decided | {ev.run_id})
        case BenchErased():
            return BENCH  # the expert is gone: nothing of its bench is kept
    return state


def suites(state: BenchState) -> dict[str, list[Question]]:
    """Every question the expert can be asked, by suite."""
    return {
        "builtin": bank.builtin(),
        "expert": list(state.expert_set),
        "custom": list(state.custom.values()),
    }


def questions_for(state: BenchState, suite: str, size: str) -> list[Question]:
    """The questions a run of `suite` at `size` asks (the same ones every time)."""
    n = SIZES[size]
    if suite == "builtin":
        return bank.pick(bank.builtin(), n, seed=0)
    pool = suites(state)[suite]
    if not pool and suite == "expert":
        raise DomainError(
            ErrorCode.INVALID,
            "this expert has no questions from its documents yet: generate its"
            " question set first (it is written from a ready training dataset)",
        )
    if not pool:
        raise DomainError(
            ErrorCode.INVALID,
            "this expert has no custom questions yet: add some, or import JSONL",
        )
    return bank.pick(pool, min(n, len(pool)), seed=0)


def set_is_older(state: BenchState, dataset_id: str, version: int) -> bool:
    """Whether the expert's own set should be written again from dataset `dataset_id` (at
    `version`): it has none, or one written from an older version of its dataset, or one whose
    dataset was not recorded (written before it was)."""
    if not state.expert_set or state.set_dataset_id is None:
        return True
    if state.set_dataset_id == dataset_id:
        return False
    return state.set_dataset_version is None or state.set_dataset_version < version


def once_per_run(event: PromotionDecided | RegressionDetected):
    """Decide `event` unless its run was decided on already (a redelivery)."""
    return lambda state: None if event.run_id in state.decided else event


def decide_configure(state: BenchState, expert_id: str, settings: BenchSettings) -> BenchConfigured:
    schedule = settings.schedule
    if schedule != "off" and not runnable_cron(schedule):
        raise DomainError(
            ErrorCode.INVALID,
            "schedule must be a cron expression of five fields (minute hour day month weekday)"
            f" that falls on real days, such as '0 3 * * *', or 'off' (got {schedule!r})",
        )
    return BenchConfigured(expert_id=expert_id, settings=settings)


TRIAL_FROM = datetime(2000, 1, 1, tzinfo=UTC)


def runnable_cron(schedule: str) -> bool:
    """Five fields, and a tick both before and after now: `0 0 31 2 *` (February 31st) reads
    as valid but has no tick, and a sixth field would mean seconds (a run every minute)."""
    if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
        return False
    try:  # from a fixed moment, so the decision stays pure
        croniter(schedule, TRIAL_FROM).get_next(datetime)
        croniter(schedule, TRIAL_FROM).get_prev(datetime)
    except Exception:  # croniter gives up on a date that never comes (CroniterBadDateError, …)
        return False
    return True


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
