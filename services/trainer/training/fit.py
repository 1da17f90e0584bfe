"""The training loop the PEFT and Unsloth backends share: TRL's SFTTrainer on the examples
as conversational prompt/completion pairs (the loss on the final assistant reply), our
callbacks, resume from the latest complete checkpoint, then the output files and `done`.

SFTTrainer (not a bare Trainer): it applies the tokenizer's chat template, truncates to
`max_length` and masks the prompt, which is all this needs, and it handles the tiny test
model as well as a real one.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import msgspec

from contracts.trainer import RunMetrics
from services.trainer.training import plan
from services.trainer.training.callbacks import ProtocolCallback
from services.trainer.training.data import prompt_completion
from services.trainer.training.job import JobFailed, TrainingJob
from services.trainer.training.outputs import (
    peak_memory_mb,
    perplexity,
    record_of_args,
    write_outputs,
)
from services.trainer.training.report import Reporter, progress_line


def fit(
    job: TrainingJob,
    train: list[list[dict]],
    val: list[list[dict]],
    model,
    tokenizer,
    reporter: Reporter,
    *,
    device: str,
    peft_config=None,
    overrides: dict | None = None,
) -> RunMetrics:
    """Train `model` (a PeftModel already, or with `peft_config` to wrap it), write the
    output folder, report `done`; returns the metrics. `overrides` replace SFTConfig values
    (a backend's own needs)."""
    import torch
    from datasets import Dataset
    from transformers import PrinterCallback, ProgressCallback, set_seed
    from trl import SFTConfig, SFTTrainer

    has_val = bool(val)
    arguments = plan.sft_arguments(
        job,
        train_examples=len(train),
        has_val=has_val,
        device=device,
        max_length=max_length(job, model),
    ) | (overrides or {})
    checkpoint = resume_point(job)
    set_seed(job.config.seed, deterministic=device == "cpu")
    # Deterministic mode also fills every new tensor with NaN, a safeguard that made a CPU
    # run three times slower; the algorithms stay deterministic without it.
    torch.utils.deterministic.fill_uninitialized_memory = False
    protocol = ProtocolCallback(
        reporter,
        device=device,
        train_examples=len(train),
        val_examples=len(val),
        checkpoint_steps=job.checkpoint_steps,
        step_delay_s=job.step_delay_s,
    )

    class Trainer(SFTTrainer):
        def create_model_card(self, *args, **kwargs) -> None:
            pass  # nothing is published from here: no README.md at every checkpoint

    trainer = Trainer(
        model=model,
        args=SFTConfig(**arguments),
        train_dataset=Dataset.from_list(prompt_completion(train)),
        eval_dataset=Dataset.from_list(prompt_completion(val)) if has_val else None,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[*plan.early_stopping(job, has_val), protocol],
    )
    for printer in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(printer)
    # TRL drops an example whose answer is cut off entirely by max_length
    protocol.train_examples = len(trainer.train_dataset)
    protocol.val_examples = len(trainer.eval_dataset) if has_val else 0
    if not protocol.train_examples or (has_val and not protocol.val_examples):
        raise JobFailed(
            f"No {'training' if not protocol.train_examples else 'validation'} example leaves"
            f" room for its answer within {arguments['max_length']} tokens: raise"
            " max_seq_length or shorten the examples."
        )

    started = time.perf_counter()
    try:
        trainer.train(resume_from_checkpoint=checkpoint)
    except torch.OutOfMemoryError as exc:
        raise JobFailed(
            "Training ran out of GPU memory: try a smaller batch size or maximum sequence length."
        ) from exc
    seconds = time.perf_counter() - started

    state = trainer.state
    progress = [p for e in state.log_history if (p := progress_line(e, state.max_steps))]
    metrics = run_metrics(
        state,
        has_val=has_val,
        seconds=seconds,
        tokens=state.num_input_tokens_seen - protocol.tokens_at_start,
        device=device,
    )
    record = record_of_args(
        job.config,
        backend=job.backend,
        model_path=job.model_path,
        extra={"max_length": arguments["max_length"], "total_steps": state.max_steps,
               "eval_steps": arguments["eval_steps"], "loss_on": "final assistant reply"},
    )  # fmt: skip
    write_outputs(
        job.output_dir,
        lambda folder: trainer.model.save_pretrained(folder),
        training_args=record,
        metrics=msgspec.structs.asdict(metrics),
        progress=progress,
    )
    reporter.emit("done", metrics=msgspec.structs.asdict(metrics))
    return metrics


def max_length(job: TrainingJob, model) -> int:
    """config.max_seq_length, cut to the model's context."""
    context = getattr(model.config, "max_position_embeddings", None)
    return min(job.config.max_seq_length, context or job.config.max_seq_length)


def run_metrics(state, *, has_val: bool, seconds: float, tokens: int, device: str) -> RunMetrics:
    losses = [e["loss"] for e in state.log_history if "loss" in e]
    evals = [e["eval_loss"] for e in state.log_history if "eval_loss" in e]
    train_loss = losses[-1] if losses else None
    val_loss = evals[-1] if evals else None
    best = state.best_metric if has_val and evals else None
    chosen = next((x for x in (best, val_loss, train_loss) if x is not None), None)
    return RunMetrics(
        train_loss=train_loss,
        val_loss=val_loss,
        best_val_loss=best,
        perplexity=perplexity(chosen),
        steps=state.global_step,
        seconds=round(seconds, 3),
        tokens_per_s=round(tokens / seconds, 3) if seconds > 0 else 0.0,
        peak_memory_mb=round(peak_memory_mb(device), 1),
        # the only thing that ends training before max_steps here is early stopping
        stopped_early=has_val and state.global_step < state.max_steps,
    )


def resume_point(job: TrainingJob) -> str | None:
    """The latest complete checkpoint in checkpoint_dir (its trainer_state.json, written
    last, is there and reads), when the job resumes; half-written ones are removed. A job
    that does not resume starts from a clean checkpoint_dir."""
    folder = Path(job.checkpoint_dir)
    found = sorted(
        (p for p in folder.glob("checkpoint-*") if p.is_dir() and p.name[11:].isdigit()),
        key=lambda p: int(p.name[11:]),
    )
    complete = [p for p in found if job.resume and _complete(p)]
    for stale in set(found) - set(complete):
        shutil.rmtree(stale, ignore_errors=True)
    return str(complete[-1]) if complete else None


def _complete(checkpoint: Path) -> bool:
    try:
        json.loads((checkpoint / "trainer_state.json").read_text())
    except (OSError, ValueError):
        return False
    return True
