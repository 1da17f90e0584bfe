"""Local fine-tuning: a run trained on this machine by the child process of
`services.trainer.training`, watched from the service.

- `training`: the run's backend — the child started, its lines turned into events, its
  checkpoints kept, restarts after a kill, the adapter published at the end.
- `workdir`: the run's folder (job, data, checkpoints, output).
"""
