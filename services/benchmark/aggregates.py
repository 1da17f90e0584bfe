"""The benchmark context's aggregate types: an expert's bench, and one run."""

from __future__ import annotations

from contracts.benchmark import BENCH, CONTEXT, RUN
from runtime.aggregate import AggregateType
from services.benchmark import domain

BENCHES = AggregateType(CONTEXT, BENCH, domain.BENCH, domain.evolve_bench)
RUNS = AggregateType(CONTEXT, RUN, domain.RUN, domain.evolve_run)
