"""The main navigation's pages across all of a person's experts (PRD 7.2): Fine-tuning
(`/finetune`), Versions (`/finetune/versions`) and Benchmarks (`/benchmark`).

Each is a list of the person's experts with what the context holds for them (their recent
runs, their adapter versions, their latest benchmark runs) and links to the expert's own
page of that context, where the work is done. They only read: every form lives on the
per-expert pages, so there is one place to start a run or activate a version.

`/finetune/versions` is a path of its own, not a run: the old `/finetune/{run_id}` redirect
(`gateway.http.moved`) matches only when no static path does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from litestar import Controller, get
from litestar.response import Template

from contracts.benchmark import BenchmarkView, ListBenchmarks
from contracts.expert import ExpertView, ListExperts
from contracts.registry import AdapterList, ListAdapters
from contracts.trainer import ListRuns, RunView
from gateway.backend import Backend
from gateway.http.pages import when

RUNS_SHOWN = 5  # per expert: the newest runs; the expert's page has the rest
RUNS_ASKED = 200  # the trainer's most in one answer, for all the person's experts together


@dataclass(frozen=True)
class ExpertRuns:
    """One expert's row of the Fine-tuning overview: its newest runs."""

    expert: ExpertView
    runs: list[RunView]


@dataclass(frozen=True)
class ExpertVersions:
    """One expert's row of the Versions overview: its versions and which one answers."""

    expert: ExpertView
    listed: AdapterList

    @property
    def active(self) -> str:
        return self.listed.active_adapter_id or "the base model"


@dataclass(frozen=True)
class ExpertBenchmarks:
    """One expert's row of the Benchmarks overview: its newest runs and the latest score."""

    expert: ExpertView
    runs: list[BenchmarkView]

    @property
    def latest_score(self) -> str:
        scored = [r for r in self.runs if r.composite_score is not None]
        return f"{scored[0].composite_score:.1f}" if scored else "–"


async def experts_of(backend: Backend) -> list[ExpertView]:
    return (await backend.ask(ListExperts())).experts


async def finetune_rows(backend: Backend) -> list[ExpertRuns]:
    experts, listed = await asyncio.gather(
        experts_of(backend), backend.ask(ListRuns(limit=RUNS_ASKED))
    )
    by_expert: dict[str, list[RunView]] = {}
    for run in listed.runs:  # newest first
        by_expert.setdefault(run.expert_id, []).append(run)
    return [ExpertRuns(e, by_expert.get(e.id, [])[:RUNS_SHOWN]) for e in experts]


async def version_rows(backend: Backend) -> list[ExpertVersions]:
    experts = await experts_of(backend)
    lists = await asyncio.gather(*(backend.ask(ListAdapters(expert_id=e.id)) for e in experts))
    return [ExpertVersions(e, listed) for e, listed in zip(experts, lists, strict=True)]


async def benchmark_rows(backend: Backend) -> list[ExpertBenchmarks]:
    experts = await experts_of(backend)
    lists = await asyncio.gather(
        *(backend.ask(ListBenchmarks(expert_id=e.id, limit=RUNS_SHOWN)) for e in experts)
    )
    return [ExpertBenchmarks(e, listed.runs) for e, listed in zip(experts, lists, strict=True)]


def page(name: str, rows: list[Any]) -> Template:
    return Template(f"overview/{name}.html", context={"rows": rows, "when": when})


class OverviewPages(Controller):
    include_in_schema = False

    @get("/finetune")
    async def finetune(self, backend: Backend) -> Template:
        return page("finetune", await finetune_rows(backend))

    @get("/finetune/versions")
    async def versions(self, backend: Backend) -> Template:
        return page("versions", await version_rows(backend))

    @get("/benchmark")
    async def benchmark(self, backend: Backend) -> Template:
        return page("benchmark", await benchmark_rows(backend))


ROUTES = [OverviewPages]
