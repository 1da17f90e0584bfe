"""The trainer context's names, limits and value types, shared by its events and messages."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from contracts.rules import Count, Sha256, line

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
