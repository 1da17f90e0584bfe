"""The trainer context's three aggregate types: an expert's line of runs, one run, an
expert's fine-tuning settings."""

from __future__ import annotations

from contracts.trainer import CONTEXT, LINE, RUN, SETTINGS
from runtime.aggregate import AggregateType
from services.trainer import domain

LINES = AggregateType(CONTEXT, LINE, domain.LINE, domain.evolve_line)
RUNS = AggregateType(CONTEXT, RUN, domain.RUN, domain.evolve_run)
CONFIGS = AggregateType(CONTEXT, SETTINGS, domain.SETTINGS, domain.evolve_settings)
