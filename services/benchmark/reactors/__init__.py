"""The benchmark's reactions, one module each, named for what it reacts to:

- `run_queued.py`: a queued run is run (the `benchmark.run` work queue);
- `run_completed.py`: a completed run decides a promotion or raises a regression alert;
- `adapter_registered.py`: a fine-tune's new adapter gets a quick run;
- `schedule.py`: an expert's cron schedule ticks and queues a run.
"""
