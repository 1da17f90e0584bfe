"""The job the trainer service hands its training child: one JSON file, read once."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec

from contracts.trainer import TrainConfig


class JobFailed(Exception):
    """An expected failure: its message is one plain sentence for the person who asked for
    the run, sent as the "error" line."""


def model_unloadable(path: str) -> JobFailed:
    """The failure every backend reports when its loader cannot read the base model: any
    loader error means the same thing to the person."""
    return JobFailed(
        f"The base model in {path} could not be loaded: its files are missing, incomplete"
        " or damaged."
    )


class TrainingJob(msgspec.Struct, frozen=True, kw_only=True):
    model_path: str  # a local model folder: config.json, safetensors, tokenizer, chat template
    train_path: str  # chat JSONL, one {"messages": [...]} a line
    val_path: str  # the same; an empty file: no evaluation, no early stopping
    output_dir: str  # the final files, written all at once
    checkpoint_dir: str  # checkpoints (the latest, and the best one while it differs)
    config: TrainConfig
    backend: Literal["peft", "unsloth", "axolotl"]
    checkpoint_steps: int = 0  # a checkpoint every N optimizer steps; 0: at each evaluation
    resume: bool = True  # go on from the latest complete checkpoint in checkpoint_dir
    threads: int = 0  # torch CPU threads; 0 leaves torch's default
    # Test/debug knob: sleep this long after each optimizer step, so that a tiny run lasts
    # long enough to be cancelled or killed mid-run. Leave it at 0 in production.
    step_delay_s: float = 0.0


def load_job(path: str | Path) -> TrainingJob:
    try:
        return msgspec.json.decode(Path(path).read_bytes(), type=TrainingJob)
    except (OSError, msgspec.ValidationError, msgspec.DecodeError, ValueError) as exc:
        raise JobFailed(f"The training job could not be read ({exc}).") from exc
