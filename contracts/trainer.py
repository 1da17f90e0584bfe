"""The trainer context: fine-tuning runs that turn a dataset version into a LoRA adapter.

Three aggregates. An expert's *line* of runs (`line`, keyed by the expert id) hands out run
numbers and holds the hosted spend committed so far, so two runs never share a number and
two hosted runs cannot both slip under the budget. Each run (`run`, keyed by its run id)
records how it went: started, progress, checkpoints, then one ending — `AdapterTrained`,
`RunFailed` or `RunCancelled`. An expert's fine-tuning *settings* (`settings`, keyed by the
expert id) hold its training config, its hosted provider and its budget, and the scheduler's
skipped ticks.

Every range a person may set is declared once, in `RANGES`; the config rejects a value
outside it with a sentence naming the key and the range (a 400 at the gateway).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from contracts.base import Command, Event, ObjectRef, Query, Reply
from contracts.rules import Count, Sha256, Token, items, line

CONTEXT = "trainer"
STREAM = "TRAINER"
LINE = "line"
RUN = "run"
SETTINGS = "settings"
BUCKET = "adapters"  # adapter files: <tenant>/<adapter_id>/<file>
CHECKPOINTS = "checkpoints"  # a running run's latest checkpoint: <tenant>/<run_id>/checkpoint.tar

Backend = Literal["auto", "peft", "unsloth", "axolotl", "openai"]
LocalBackend = Literal["peft", "unsloth", "axolotl"]
Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]
Trigger = Literal["manual", "schedule", "api"]
Reason = line(500)
Usd = Annotated[float, Meta(ge=0, le=1_000_000)]
ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")
RECORD_FILES = ("training_args.json", "metrics.json", "metrics.jsonl")  # the last: every step

# key -> (smallest, largest): what the console's form says and the config enforces.
RANGES: dict[str, tuple[float, float]] = {
    "lora_rank": (4, 128),
    "lora_alpha": (8, 256),
    "lora_dropout": (0.0, 0.5),
    "learning_rate": (1e-5, 1e-3),
    "batch_size": (1, 32),
    "gradient_accumulation_steps": (1, 16),
    "epochs": (1, 10),
    "max_seq_length": (512, 8192),
    "warmup_ratio": (0.0, 0.5),
    "weight_decay": (0.0, 0.5),
    "min_quality_score": (0.0, 10.0),
    "eval_steps": (1, 10_000),
    "max_steps": (1, 100_000),
    "early_stopping_patience": (1, 20),
    "seed": (0, 2**31 - 1),
}


def plain(value: float) -> str:
    """A number as a person writes it: 4, 0.5, 0.0002, 2147483647."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.10f}".rstrip("0")


def in_range_words(key: str) -> str:
    low, high = RANGES[key]
    return f"{key} must be between {plain(low)} and {plain(high)}"


class TrainConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A run's hyperparameters (the PRD's defaults). `eval_steps` None evaluates four times
    an epoch; `max_steps` None trains every epoch; `base_model` None is the expert service's
    base model."""

    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    learning_rate: float = 2e-4
    batch_size: int = 4
    gradient_accumulation_steps: int = 4
    epochs: int = 3
    max_seq_length: int = 4096
    warmup_ratio: float = 0.03
    weight_decay: float = 0.01
    min_quality_score: float = 8.0
    eval_steps: int | None = None
    max_steps: int | None = None
    early_stopping_patience: int = 3
    seed: int = 0
    base_model: line(200) | None = None
    backend: Backend = "auto"

    def __post_init__(self) -> None:
        wrong = [
            f"{in_range_words(key)} (got {plain(value)})"
            for key, (low, high) in RANGES.items()
            if (value := getattr(self, key)) is not None and not low <= value <= high
        ]
        if wrong:
            raise ValueError("; ".join(wrong))


class HostedProvider(msgspec.Struct, frozen=True, kw_only=True):
    """A server that speaks the OpenAI fine-tuning API, and what it charges."""

    base_url: line(500, min_length=1)
    model: line(200, min_length=1)  # the provider's base model to fine-tune
    price_per_million_tokens_usd: Annotated[float, Meta(ge=0, le=10_000)] = 0.0
    key_set: bool = False  # the key itself never leaves the trainer unsealed


class Estimate(msgspec.Struct, frozen=True, kw_only=True):
    """What a run is expected to take: tokens, and money (hosted) or time (local)."""

    backend: Backend
    train_examples: Count
    val_examples: Count
    tokens_per_epoch: Count
    training_tokens: Count  # tokens_per_epoch x epochs
    total_steps: Count
    cost_usd: Usd | None = None  # hosted only
    expected_seconds: Count | None = None  # local only
    budget_usd: Usd | None = None
    spent_usd: Usd = 0.0


class AdapterFile(msgspec.Struct, frozen=True, kw_only=True):
    name: line(100, min_length=1)
    sha256: Sha256
    size: Count


class RunMetrics(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    train_loss: float | None = None
    val_loss: float | None = None
    best_val_loss: float | None = None
    perplexity: float | None = None
    steps: Count = 0
    seconds: float = 0.0
    tokens_per_s: float = 0.0
    peak_memory_mb: float = 0.0
    stopped_early: bool = False


# ---- events --------------------------------------------------------------------------------


class FinetuneConfigured(Event, frozen=True, kw_only=True, tag="trainer.FinetuneConfigured"):
    """On the expert's settings: its config, hosted provider (key sealed) and budget."""

    expert_id: Token
    config: TrainConfig
    hosted: HostedProvider | None = None
    api_key_sealed: line(4000) | None = None
    budget_usd: Usd | None = None


class ScheduledRunSkipped(Event, frozen=True, kw_only=True, tag="trainer.ScheduledRunSkipped"):
    """On the expert's settings: a schedule tick that started nothing, and why."""

    expert_id: Token
    tick: line(40)  # the tick's time, ISO 8601
    reason: Reason


class RunQueued(Event, frozen=True, kw_only=True, tag="trainer.RunQueued"):
    """On the expert's line: run `number` is to train `dataset_id` into an adapter."""

    run_id: Token
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


class RunStarted(Event, frozen=True, kw_only=True, tag="trainer.RunStarted"):
    run_id: Token
    attempt: Annotated[int, Meta(ge=1, le=1000)]
    worker: line(200)
    resumed_from_step: Count = 0


class LossPoint(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    step: Count
    loss: float | None = None
    eval_loss: float | None = None


class RunProgressed(Event, frozen=True, kw_only=True, tag="trainer.RunProgressed"):
    """Where a run stands; `points` are the losses of every step since the last one, so the
    chart misses none while the log hears of a run at most once a second."""

    run_id: Token
    step: Count
    total_steps: Count
    loss: float | None = None
    eval_loss: float | None = None
    learning_rate: float | None = None
    epoch: float | None = None
    eta_seconds: Count | None = None
    stage: line(100) = ""  # hosted: the provider's latest event
    points: items(LossPoint, 500) = []


class RunCheckpointed(Event, frozen=True, kw_only=True, tag="trainer.RunCheckpointed"):
    run_id: Token
    step: Count
    checkpoint: ObjectRef


class HostedJobCreated(Event, frozen=True, kw_only=True, tag="trainer.HostedJobCreated"):
    """The provider accepted the job: a restart follows it instead of starting another."""

    run_id: Token
    job_id: line(200, min_length=1)
    training_file: line(200, min_length=1)
    validation_file: line(200) | None = None


class AdapterTrained(Event, frozen=True, kw_only=True, tag="trainer.AdapterTrained"):
    """The run succeeded: its adapter, whatever trained it. A local adapter's files lie in
    the `adapters` bucket under `<tenant>/<adapter_id>/`; a hosted one is the provider's
    model id."""

    run_id: Token
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


class RunFailed(Event, frozen=True, kw_only=True, tag="trainer.RunFailed"):
    run_id: Token
    reason: Reason


class RunCancelled(Event, frozen=True, kw_only=True, tag="trainer.RunCancelled"):
    run_id: Token


TrainerEvent = (
    FinetuneConfigured
    | ScheduledRunSkipped
    | RunQueued
    | RunStarted
    | RunProgressed
    | RunCheckpointed
    | HostedJobCreated
    | AdapterTrained
    | RunFailed
    | RunCancelled
)


# ---- commands ------------------------------------------------------------------------------


class HostedInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    base_url: line(500, min_length=1)
    model: line(200, min_length=1)
    price_per_million_tokens_usd: Annotated[float, Meta(ge=0, le=10_000)] = 0.0
    api_key: line(400) | None = None  # None keeps the key already set


class ConfigureFinetune(Command, frozen=True, kw_only=True, tag="trainer.ConfigureFinetune"):
    subject = "cmd.trainer.configure"
    reply = "Accepted"

    expert_id: Token
    config: TrainConfig = msgspec.field(default_factory=TrainConfig)
    hosted: HostedInput | None = None
    budget_usd: Usd | None = None


class StartFinetune(Command, frozen=True, kw_only=True, tag="trainer.StartFinetune"):
    """Queue a run. `config` None uses the expert's settings; a hosted run must carry
    `confirm: true` once its estimate has been seen."""

    subject = "cmd.trainer.start"
    reply = "RunAccepted"

    expert_id: Token
    dataset_id: Token | None = None  # None: the expert's newest ready dataset
    config: TrainConfig | None = None
    confirm: bool = False
    trigger: Trigger = "api"


class CancelFinetune(Command, frozen=True, kw_only=True, tag="trainer.CancelFinetune"):
    subject = "cmd.trainer.cancel"
    reply = "Accepted"

    run_id: Token


# ---- queries -------------------------------------------------------------------------------


class GetRun(Query, frozen=True, kw_only=True, tag="trainer.GetRun"):
    subject = "qry.trainer.run"
    reply = "RunView"

    run_id: Token


class ListRuns(Query, frozen=True, kw_only=True, tag="trainer.ListRuns"):
    subject = "qry.trainer.runs"
    reply = "RunList"

    expert_id: Token | None = None
    limit: Annotated[int, Meta(ge=1, le=200)] = 50


class GetFinetuneSettings(Query, frozen=True, kw_only=True, tag="trainer.GetFinetuneSettings"):
    subject = "qry.trainer.settings"
    reply = "FinetuneSettings"

    expert_id: Token


class EstimateRun(Query, frozen=True, kw_only=True, tag="trainer.EstimateRun"):
    subject = "qry.trainer.estimate"
    reply = "Estimate"

    expert_id: Token
    dataset_id: Token | None = None
    config: TrainConfig | None = None


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


class RunAccepted(Reply, frozen=True, kw_only=True):
    run_id: str
    seq: int
    estimate: Estimate


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
