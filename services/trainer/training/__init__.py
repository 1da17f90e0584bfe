"""The trainer's child process: `python -m services.trainer.training JOB.json` trains one
LoRA adapter and reports on stdout, one JSON object a line (see `report`).

- `job`: the job file the service writes (`TrainingJob`).
- `data`: the chat JSONL read and checked, turned into prompt/completion pairs.
- `plan`: the pure part — steps, evaluation and checkpoint cadence, the SFTConfig, callbacks.
- `fit`: the shared training loop (TRL's SFTTrainer), resume, the final files.
- `peft_run`, `unsloth_run`, `axolotl_run`: the three local backends.
- `callbacks`: the Trainer callback that speaks the protocol.
- `report`, `outputs`: the stdout protocol, and the output folder written all at once.
"""
