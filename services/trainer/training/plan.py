"""The pure part of a run: how many steps, when to evaluate and save, the SFTConfig values
and the callbacks — computed from the job alone, so tests can check them without training.
"""

from __future__ import annotations

import math

from services.trainer.training.job import TrainingJob

# LoRA on the attention projections; a model without these names gets PEFT's default
# targets for its type (target_modules=None).
ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")


def steps_per_epoch(train_examples: int, job: TrainingJob) -> int:
    """Optimizer steps in one pass over the data, as the Trainer counts them (a last short
    accumulation counts as a step)."""
    batches = math.ceil(train_examples / job.config.batch_size)
    return max(1, math.ceil(batches / job.config.gradient_accumulation_steps))


def total_steps(train_examples: int, job: TrainingJob) -> int:
    if job.config.max_steps is not None:
        return job.config.max_steps
    return job.config.epochs * steps_per_epoch(train_examples, job)


def eval_every(train_examples: int, job: TrainingJob) -> int:
    """config.eval_steps, or four evaluations an epoch."""
    if job.config.eval_steps is not None:
        return job.config.eval_steps
    return max(1, steps_per_epoch(train_examples, job) // 4)


def save_every(train_examples: int, job: TrainingJob, has_val: bool) -> int:
    """The Trainer's own save cadence. With validation it must match the evaluations (the
    best model is reloaded from its checkpoint at the end); `checkpoint_steps` then adds
    saves in between (`ProtocolCallback`). Without validation: every `checkpoint_steps`, or
    at the cadence evaluations would have had."""
    if has_val or not job.checkpoint_steps:
        return eval_every(train_examples, job)
    return job.checkpoint_steps


def target_modules(module_names: set[str]) -> list[str] | None:
    """The attention projections the model has; None (PEFT's default for the model type)
    when it has none of them."""
    leaves = {name.rsplit(".", 1)[-1] for name in module_names}
    found = [name for name in ATTENTION if name in leaves]
    return found or None


def sft_arguments(
    job: TrainingJob, *, train_examples: int, has_val: bool, device: str, max_length: int
) -> dict:
    """Keyword arguments for trl.SFTConfig."""
    config = job.config
    cuda = device == "cuda"
    bf16 = cuda and _bf16_supported()
    every = eval_every(train_examples, job)
    return {
        "output_dir": job.checkpoint_dir,
        "per_device_train_batch_size": config.batch_size,
        "per_device_eval_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "num_train_epochs": config.epochs,
        "max_steps": config.max_steps if config.max_steps is not None else -1,
        "learning_rate": config.learning_rate,
        "weight_decay": config.weight_decay,
        "warmup_steps": config.warmup_ratio,  # a float below 1 is a ratio of the total
        "lr_scheduler_type": "linear",
        "logging_strategy": "steps",
        "logging_steps": 1,
        "eval_strategy": "steps" if has_val else "no",
        "eval_steps": every if has_val else None,
        "save_strategy": "steps",
        "save_steps": save_every(train_examples, job, has_val),
        "save_total_limit": 1,
        "load_best_model_at_end": has_val,
        "metric_for_best_model": "eval_loss" if has_val else None,
        "greater_is_better": False if has_val else None,
        "restore_callback_states_from_checkpoint": True,  # early stopping's count survives
        "seed": config.seed,
        "data_seed": config.seed,
        "full_determinism": not cuda,
        "dataloader_num_workers": 0,
        "report_to": "none",
        "disable_tqdm": True,
        "log_level": "warning",
        "include_num_input_tokens_seen": "non_padding",
        "use_cpu": not cuda,
        "bf16": bf16,
        "fp16": cuda and not bf16,
        "gradient_checkpointing": cuda,
        "max_length": max_length,
        "packing": False,
    }


def early_stopping(job: TrainingJob, has_val: bool) -> list:
    """The early-stopping callback (FR-FT-11): stop once validation loss has not improved for
    `early_stopping_patience` evaluations in a row. None without validation data."""
    if not has_val:
        return []
    from transformers import EarlyStoppingCallback

    return [EarlyStoppingCallback(early_stopping_patience=job.config.early_stopping_patience)]


def _bf16_supported() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
