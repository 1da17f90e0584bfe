"""What the trainer does on its own, one module for each thing it reacts to.

- `run_queued`: a `RunQueued` on an expert's line is trained, off the `trainer.run` work
  queue (`Runner`).
- `expert_deleted`: an `ExpertDeleted` cancels the expert's runs still going (`Cascade`).
- `schedule`: each tick of `FINETUNE_SCHEDULE` queues a run for every expert with enough new
  data (`Scheduler`).
"""
