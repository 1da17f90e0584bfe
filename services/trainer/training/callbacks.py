"""The Trainer callback that speaks the protocol: `started` when training begins (after a
checkpoint is restored), a `progress` line per log entry (each optimizer step, each
evaluation), a `checkpoint` line once a checkpoint is on disk; plus the job's extra saves
(`checkpoint_steps`) and its debug delay after each step."""

from __future__ import annotations

import os
import time

from transformers import TrainerCallback

from services.trainer.training.report import Reporter, progress_line


class ProtocolCallback(TrainerCallback):
    def __init__(
        self,
        reporter: Reporter,
        *,
        device: str,
        train_examples: int,
        val_examples: int,
        checkpoint_steps: int = 0,
        step_delay_s: float = 0.0,
    ) -> None:
        self.reporter = reporter
        self.device = device
        self.train_examples = train_examples
        self.val_examples = val_examples
        self.checkpoint_steps = checkpoint_steps
        self.step_delay_s = step_delay_s
        self.resumed_from_step = 0
        self.tokens_at_start = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.resumed_from_step = state.global_step
        self.tokens_at_start = state.num_input_tokens_seen
        self.reporter.emit(
            "started",
            total_steps=state.max_steps,
            resumed_from_step=state.global_step,
            device=self.device,
            train_examples=self.train_examples,
            val_examples=self.val_examples,
        )

    def on_step_end(self, args, state, control, **kwargs):
        if self.checkpoint_steps and state.global_step % self.checkpoint_steps == 0:
            control.should_save = True
        if self.step_delay_s:
            time.sleep(self.step_delay_s)

    def on_log(self, args, state, control, logs=None, **kwargs):
        line = progress_line(state.log_history[-1], state.max_steps) if state.log_history else None
        if line is not None:
            self.reporter.emit("progress", **line)

    def on_save(self, args, state, control, **kwargs):
        folder = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
        self.reporter.emit("checkpoint", step=state.global_step, path=os.path.abspath(folder))
