"""The Axolotl backend: the job as an Axolotl YAML config (`output_dir/../axolotl.yml`),
then `axolotl train` (or `python -m axolotl.cli.train`) in a child of its own, its output
sent to our stderr. Nothing is read from it but its exit status; the adapter files it saves
in its output folder (our checkpoint_dir) are copied into the output folder.

Axolotl's chat_template strategy trains on every assistant turn (its default), where the
PEFT backend trains on the final one; the two agree for single-turn examples. Since its log
is not read, the "done" metrics hold the wall time, the peak memory of the Axolotl process
and the planned number of steps, no losses; there are no progress or checkpoint lines.
"""

from __future__ import annotations

import importlib.util
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from contracts.trainer import ADAPTER_FILES, RunMetrics
from runtime.child_env import die_with_parent
from services.trainer.training import plan
from services.trainer.training.job import JobFailed, TrainingJob
from services.trainer.training.report import Reporter

MISSING = "The axolotl backend is not installed on this machine (pip install axolotl)."


def command() -> list[str] | None:
    if exe := shutil.which("axolotl"):
        return [exe, "train"]
    if importlib.util.find_spec("axolotl") is not None:
        return [sys.executable, "-m", "axolotl.cli.train"]
    return None


def check() -> None:
    if command() is None:
        raise JobFailed(MISSING)


def axolotl_config(job: TrainingJob, *, train_examples: int, has_val: bool) -> dict:
    """Axolotl's config for the job (pure)."""
    config = job.config
    dataset = {"type": "chat_template", "field_messages": "messages", "ds_type": "json"}
    every = plan.eval_every(train_examples, job)
    values = {
        "base_model": job.model_path,
        "chat_template": "tokenizer_default",
        "datasets": [{"path": job.train_path, **dataset}],
        "dataset_prepared_path": str(Path(job.checkpoint_dir) / "prepared"),
        "val_set_size": 0,
        "adapter": "lora",
        "lora_r": config.lora_rank,
        "lora_alpha": config.lora_alpha,
        "lora_dropout": config.lora_dropout,
        "lora_target_modules": list(plan.ATTENTION),
        "sequence_len": config.max_seq_length,
        "micro_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "num_epochs": config.epochs,
        "learning_rate": config.learning_rate,
        "lr_scheduler": "linear",
        "optimizer": "adamw_torch",
        "warmup_ratio": config.warmup_ratio,
        "weight_decay": config.weight_decay,
        "output_dir": job.checkpoint_dir,
        "seed": config.seed,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": plan.save_every(train_examples, job, has_val),
        "save_total_limit": 1,
        "auto_resume_from_checkpoints": job.resume,
        "bf16": "auto",
        "strict": False,
    }
    if config.max_steps is not None:
        values["max_steps"] = config.max_steps
    if has_val:
        values |= {
            "test_datasets": [{"path": job.val_path, "split": "train", **dataset}],
            "eval_strategy": "steps",
            "eval_steps": every,
            "early_stopping_patience": config.early_stopping_patience,
            "load_best_model_at_end": True,
            "metric_for_best_model": "eval_loss",
            "greater_is_better": False,
        }
    return values


def to_yaml(value: object, indent: int = 0) -> str:
    """YAML for JSON-like values (no PyYAML needed): mappings and sequences in block style,
    scalars as JSON, which YAML reads as the same values."""
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:\n{to_yaml(item, indent + 2)}")
            else:
                lines.append(f"{pad}{key}: {json.dumps(item)}")
        return "\n".join(lines)
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, dict | list) and item:
                nested = to_yaml(item, indent + 2)
                lines.append(f"{pad}- {nested.lstrip()}")
            else:
                lines.append(f"{pad}- {json.dumps(item)}")
        return "\n".join(lines)
    return pad + json.dumps(value)


def write_config(job: TrainingJob, *, train_examples: int, has_val: bool) -> Path:
    path = Path(job.output_dir).resolve().parent / "axolotl.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    values = axolotl_config(job, train_examples=train_examples, has_val=has_val)
    path.write_text(to_yaml(values) + "\n")
    return path


def run(job: TrainingJob, train: list, val: list, reporter: Reporter) -> None:
    from services.trainer.training.outputs import record_of_args, write_outputs

    yml = write_config(job, train_examples=len(train), has_val=bool(val))
    total = plan.total_steps(len(train), job)
    reporter.emit("started", total_steps=total, resumed_from_step=0, device=_device(),
                  train_examples=len(train), val_examples=len(val))  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(  # dies with this child, as this child dies with the service
        [*command(), str(yml)],
        stdout=sys.stderr,
        stdin=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    seconds = time.perf_counter() - started
    produced = Path(job.checkpoint_dir)
    if done.returncode != 0 or any(not (produced / f).is_file() for f in ADAPTER_FILES):
        raise JobFailed("Axolotl stopped without finishing the adapter; its log has the details.")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    metrics = {"seconds": round(seconds, 3), "peak_memory_mb": round(peak, 1), "steps": total}
    metrics = {f: getattr(RunMetrics(**metrics), f) for f in RunMetrics.__struct_fields__}

    def copy_adapter(folder: Path) -> None:
        for name in ADAPTER_FILES:
            shutil.copyfile(produced / name, folder / name)

    write_outputs(
        job.output_dir,
        copy_adapter,
        training_args=record_of_args(job.config, backend="axolotl", model_path=job.model_path),
        metrics=metrics,
        progress=[],
    )
    reporter.emit("done", metrics=metrics)


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
