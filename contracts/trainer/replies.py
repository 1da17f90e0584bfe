"""What the trainer service answers with."""

from __future__ import annotations

import msgspec

from contracts.base import Reply
from contracts.scoped import AcceptedRun
from contracts.trainer.events import LossPoint
from contracts.trainer.values import (
    AdapterFile,
    Estimate,
    HostedProvider,
    RunMetrics,
    Status,
    TrainConfig,
)

# ---- replies -------------------------------------------------------------------------------


class RunView(Reply, frozen=True, kw_only=True):
    id: str
    expert_id: str
    number: int
    dataset_id: str
    backend: str
    base_model: str
    status: Status
    trigger: str
    step: int = 0
    total_steps: int = 0
    loss: float | None = None
    eval_loss: float | None = None
    learning_rate: float | None = None
    eta_seconds: int | None = None
    stage: str = ""
    adapter_id: str | None = None
    provider_model: str | None = None
    error: str | None = None
    attempt: int = 0
    resumed_from_step: int = 0
    queue_position: int | None = None  # 1 = next, while queued
    config: TrainConfig = msgspec.field(default_factory=TrainConfig)
    estimate: Estimate | None = None
    metrics: RunMetrics | None = None
    files: list[AdapterFile] = []
    history: list[LossPoint] = []
    cost_usd: float | None = None
    queued_at: str = ""
    started_at: str | None = None
    finished_at: str | None = None


class RunList(Reply, frozen=True, kw_only=True):
    runs: list[RunView]


class RunAccepted(AcceptedRun, frozen=True, kw_only=True):
    estimate: Estimate  # what the run is expected to take and cost


class FinetuneSettings(Reply, frozen=True, kw_only=True):
    """The dashboard's state: config, provider, budget, schedule and the data waiting."""

    expert_id: str
    config: TrainConfig
    hosted: HostedProvider | None
    budget_usd: float | None
    spent_usd: float
    schedule: str
    next_tick: str | None
    last_skip: str | None  # the latest skipped tick's reason
    last_skip_at: str | None
    dataset_id: str | None  # the newest ready dataset
    dataset_examples: int
    examples_since_last_run: int
    min_examples: int
    active_run: str | None
    ranges: dict[str, list[float]] = {}
