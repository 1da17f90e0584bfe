"""The benchmark context, pure: an expert's bench (`bench.py`: settings, question sets,
decisions) and a run's life (`run.py`: queued → running → one ending), folded from events and
decided on. The names of both are here, so a caller reads `domain.decide_cancel`."""

from services.benchmark.domain.bench import (
    BENCH,
    BenchState,
    decide_add,
    decide_configure,
    decide_remove,
    evolve_bench,
    once_per_run,
    questions_for,
    set_is_older,
    suites,
)
from services.benchmark.domain.run import (
    RUN,
    RunState,
    decide_cancel,
    decide_ending,
    decide_failed,
    decide_scored,
    decide_start,
    evolve_run,
    going,
    unanswered,
)

__all__ = [
    "BENCH",
    "RUN",
    "BenchState",
    "RunState",
    "decide_add",
    "decide_cancel",
    "decide_configure",
    "decide_ending",
    "decide_failed",
    "decide_remove",
    "decide_scored",
    "decide_start",
    "evolve_bench",
    "evolve_run",
    "going",
    "once_per_run",
    "questions_for",
    "set_is_older",
    "suites",
    "unanswered",
]
