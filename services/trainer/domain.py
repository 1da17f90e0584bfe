"""The trainer's aggregates, pure: an expert's line of runs (numbers and committed hosted
spend), one run (queued → running → succeeded | failed | cancelled), an expert's settings."""

from __future__ import annotations

import msgspec

from contracts.base import DomainError, ErrorCode, ObjectRef
from contracts.trainer import (
    AdapterTrained,
    Estimate,
    FinetuneConfigured,
    HostedJobCreated,
    HostedJobRequested,
    HostedProvider,
    RunCancelled,
    RunCheckpointed,
    RunFailed,
    RunQueued,
    RunsErased,
    RunSettled,
    RunStarted,
    TrainConfig,
)

# ---- the line ------------------------------------------------------------------------------


class LineState(msgspec.Struct, frozen=True):
    runs: int = 0  # the highest run number handed out
    # What the expert's hosted runs cost: the estimate of each run not yet settled, and what
    # each settled one cost (what the provider billed, or the estimate where that is unknown)
    committed_usd: float = 0.0
    unsettled: dict[str, float] = msgspec.field(default_factory=dict)  # run id -> estimate
    erased: bool = False  # the expert was deleted and its runs erased


LINE = LineState()


def evolve_line(state: LineState, event: object) -> LineState:
    if isinstance(event, RunQueued):
        spend = event.estimate.cost_usd or 0.0
        unsettled = state.unsettled
        if spend:
            unsettled = {**unsettled, event.run_id: spend}
        return LineState(
            runs=max(state.runs, event.number),
            committed_usd=state.committed_usd + spend,
            unsettled=unsettled,
        )
    if isinstance(event, RunsErased):
        return LineState(runs=state.runs, committed_usd=state.committed_usd, erased=True)
    if isinstance(event, RunSettled) and event.run_id in state.unsettled:
        unsettled = dict(state.unsettled)
        estimate = unsettled.pop(event.run_id)
        committed = max(0.0, state.committed_usd - estimate + event.cost_usd)
        return LineState(runs=state.runs, committed_usd=committed, unsettled=unsettled)
    return state


def decide_erase(state: LineState, expert_id: str) -> RunsErased | None:
    """The expert's runs are erased once: a redelivery finds them erased and decides nothing."""
    return None if state.erased else RunsErased(expert_id=expert_id)


def decide_settle(state: LineState, settled: RunSettled) -> RunSettled | None:
    """A run's spend is settled once: a redelivery finds it settled and decides nothing."""
    return settled if settled.run_id in state.unsettled else None


BUDGET_NEEDS_A_PRICE = (
    "a budget needs the provider's price per million training tokens to keep to: set the"
    " price in the fine-tuning settings, or remove the budget"
)


def check_budget(state: LineState, estimate: Estimate, budget_usd: float | None) -> None:
    """A hosted run whose estimate would take the expert's spend past its budget is refused,
    with the figures."""
    cost = estimate.cost_usd or 0.0
    if budget_usd is None or estimate.backend != "openai":
        return
    if cost == 0.0:  # no price: the budget could not hold anything back
        raise DomainError(ErrorCode.OVER_BUDGET, BUDGET_NEEDS_A_PRICE)
    if state.committed_usd + cost > budget_usd + 1e-9:
        raise DomainError(
            ErrorCode.OVER_BUDGET,
            f"this run is estimated at ${cost:.2f}; with ${state.committed_usd:.2f} already"
            " committed (what ended runs cost, the estimates of runs not yet ended) the"
            f" expert's budget of ${budget_usd:.2f} would be passed",
        )


# ---- one run -------------------------------------------------------------------------------

ENDED = ("succeeded", "failed", "cancelled")


class RunState(msgspec.Struct, frozen=True):
    status: str = (
        "none"  # none (queued on the line only) | running | succeeded | failed | cancelled
    )
    attempts: int = 0
    checkpoint: ObjectRef | None = None  # the latest checkpoint a restart resumes from
    hosted_job: str | None = None  # the provider's job, once created
    job_key: str | None = None  # the key a job was asked for under (before its creation)
    expert_id: str | None = None  # known once a job was asked for
    job_files: tuple[str, str | None] | None = None  # training, validation file it was for


RUN = RunState()


def evolve_run(state: RunState, event: object) -> RunState:
    match event:
        case RunStarted(attempt=attempt):
            return msgspec.structs.replace(
                state, status="running", attempts=max(state.attempts, attempt)
            )
        case RunCheckpointed(checkpoint=checkpoint):
            return msgspec.structs.replace(state, checkpoint=checkpoint)
        case HostedJobRequested(
            job_key=key, expert_id=expert, training_file=train, validation_file=val
        ):
            return msgspec.structs.replace(
                state, job_key=key, expert_id=expert, job_files=(train, val)
            )
        case HostedJobCreated(job_id=job_id):
            return msgspec.structs.replace(state, hosted_job=job_id)
        case AdapterTrained():
            return msgspec.structs.replace(state, status="succeeded")
        case RunFailed():
            return msgspec.structs.replace(state, status="failed")
        case RunCancelled():
            return msgspec.structs.replace(state, status="cancelled")
    return state


def going(state: RunState) -> bool:
    return state.status not in ENDED


def decide_cancel(state: RunState, run_id: str) -> RunCancelled | None:
    if state.status in ("succeeded", "failed"):
        raise DomainError(ErrorCode.CONFLICT, f"run {run_id} has {state.status}; it cannot stop")
    if state.status == "cancelled":
        return None
    return RunCancelled(run_id=run_id)


def decide_start(state: RunState, started: RunStarted) -> RunStarted | None:
    return started if going(state) else None


def decide_going(state: RunState, event: object) -> object | None:
    """Progress, a checkpoint or a run's last word counts only while the run is going."""
    return event if going(state) else None


# ---- settings ------------------------------------------------------------------------------


class SettingsState(msgspec.Struct, frozen=True):
    config: TrainConfig = msgspec.field(default_factory=TrainConfig)
    hosted: HostedProvider | None = None
    api_key_sealed: str | None = None
    budget_usd: float | None = None


SETTINGS = SettingsState()


def evolve_settings(state: SettingsState, event: object) -> SettingsState:
    if isinstance(event, FinetuneConfigured):
        return SettingsState(
            config=event.config,
            hosted=event.hosted,
            api_key_sealed=event.api_key_sealed,
            budget_usd=event.budget_usd,
        )
    return state
