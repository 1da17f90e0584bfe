"""The trainer context's events: what happened, kept on its stream forever."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from contracts.base import ObjectRef
from contracts.rules import Count, Token, items, line
from contracts.scoped import ExpertFact, RunFact
from contracts.trainer.values import (
    AdapterFile,
    Backend,
    Estimate,
    HostedProvider,
    Reason,
    RunMetrics,
    TrainConfig,
    Trigger,
    Usd,
)

# ---- events --------------------------------------------------------------------------------


class FinetuneConfigured(ExpertFact, frozen=True, kw_only=True, tag="trainer.FinetuneConfigured"):
    """On the expert's settings: its config, hosted provider (key sealed) and budget."""

    config: TrainConfig
    hosted: HostedProvider | None = None
    api_key_sealed: line(4000) | None = None
    budget_usd: Usd | None = None


class ScheduledRunSkipped(ExpertFact, frozen=True, kw_only=True, tag="trainer.ScheduledRunSkipped"):
    """On the expert's settings: a schedule tick that started nothing, and why."""

    tick: line(40)  # the tick's time, ISO 8601
    reason: Reason


class RunQueued(RunFact, frozen=True, kw_only=True, tag="trainer.RunQueued"):
    """On the expert's line: run `number` is to train `dataset_id` into an adapter."""

    expert_id: Token
    number: Annotated[int, Meta(ge=1)]
    dataset_id: Token
    dataset: ObjectRef  # the version's examples (JSONL) as they were when queued
    config: TrainConfig
    backend: Backend  # resolved: never "auto"
    base_model: line(200)
    trigger: Trigger
    estimate: Estimate
    hosted: HostedProvider | None = None
    api_key_sealed: line(4000) | None = None


class RunStarted(RunFact, frozen=True, kw_only=True, tag="trainer.RunStarted"):
    attempt: Annotated[int, Meta(ge=1, le=1000)]
    worker: line(200)
    resumed_from_step: Count = 0


class LossPoint(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    step: Count
    loss: float | None = None
    eval_loss: float | None = None


class RunProgressed(RunFact, frozen=True, kw_only=True, tag="trainer.RunProgressed"):
    """Where a run stands; `points` are the losses of every step since the last one, so the
    chart misses none while the log hears of a run at most once a second."""

    step: Count
    total_steps: Count
    loss: float | None = None
    eval_loss: float | None = None
    learning_rate: float | None = None
    epoch: float | None = None
    eta_seconds: Count | None = None
    stage: line(100) = ""  # hosted: the provider's latest event
    points: items(LossPoint, 500) = []


class RunCheckpointed(RunFact, frozen=True, kw_only=True, tag="trainer.RunCheckpointed"):
    step: Count
    checkpoint: ObjectRef


class HostedJobRequested(RunFact, frozen=True, kw_only=True, tag="trainer.HostedJobRequested"):
    """About to ask the provider for a job, on the run before the request is sent: the job
    carries `job_key` (in its metadata), so a retry after a crash or a lost answer finds
    that job at the provider instead of paying for a second one, and an ended run's job is
    found and cancelled even if its id never reached the log."""

    expert_id: Token  # whose line holds the run's provider and key
    job_key: Token
    training_file: line(200, min_length=1)
    validation_file: line(200) | None = None


class HostedJobCreated(RunFact, frozen=True, kw_only=True, tag="trainer.HostedJobCreated"):
    """The provider accepted the job: a restart follows it instead of starting another."""

    job_id: line(200, min_length=1)
    training_file: line(200, min_length=1)
    validation_file: line(200) | None = None


class AdapterTrained(RunFact, frozen=True, kw_only=True, tag="trainer.AdapterTrained"):
    """The run succeeded: its adapter, whatever trained it. A local adapter's files lie in
    the `adapters` bucket under `<tenant>/<adapter_id>/`; a hosted one is the provider's
    model id."""

    adapter_id: Token
    expert_id: Token
    dataset_id: Token
    base_model: line(200)
    backend: Backend
    files: items(AdapterFile, 16) = []
    provider_model: line(300) | None = None
    metrics: RunMetrics
    cost_usd: Usd | None = None
    config: TrainConfig | None = None  # what it was trained with
    train_examples: Count = 0  # the examples it learned from


class RunFailed(RunFact, frozen=True, kw_only=True, tag="trainer.RunFailed"):
    reason: Reason


class RunCancelled(RunFact, frozen=True, kw_only=True, tag="trainer.RunCancelled"):
    pass


class RunSettled(RunFact, frozen=True, kw_only=True, tag="trainer.RunSettled"):
    """On the expert's line: an ended hosted run's spend, which replaces its estimate in the
    expert's committed spend. `billed`: the figure is the provider's (the tokens it trained);
    False when the provider's figure is unknown and the estimate is kept, or when no job was
    ever created (cost 0)."""

    cost_usd: Usd
    billed: bool = False


class RunsErased(ExpertFact, frozen=True, kw_only=True, tag="trainer.RunsErased"):
    """On the expert's line: the expert was deleted and every run of it has ended and left
    nothing on disk; its runs and fine-tuning settings (a sealed key among them) are gone."""


TrainerEvent = (
    FinetuneConfigured
    | ScheduledRunSkipped
    | RunQueued
    | RunStarted
    | RunProgressed
    | RunCheckpointed
    | HostedJobRequested
    | HostedJobCreated
    | AdapterTrained
    | RunFailed
    | RunCancelled
    | RunSettled
    | RunsErased
)
