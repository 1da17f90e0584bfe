"""Benchmarks (`/api/benchmark...`): runs and the dashboard (`runs.py`), question sets
(`questions.py`) and the export's rows (`export.py`)."""

from gateway.api.benchmark.runs import ROUTES

__all__ = ["ROUTES"]
