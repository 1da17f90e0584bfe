"""Wiring of the benchmark service: its read model, the run work queue and the reactions to
runs, fine-tunes and schedules, and its endpoints."""

from __future__ import annotations

from contracts import benchmark, expert, registry
from contracts.benchmark import BENCH, BenchErased
from runtime.erasure import AfterErased, TenantErasure
from runtime.eventstore import events_of
from runtime.service import ServiceHost
from services.benchmark.commands import BenchmarkCommands
from services.benchmark.examiner import Examiner
from services.benchmark.projections import RunsProjection
from services.benchmark.queries import BenchmarkQueries
from services.benchmark.reactors.adapter_registered import AfterTraining
from services.benchmark.reactors.expert_deleted import Cascade
from services.benchmark.reactors.run_completed import Decisions
from services.benchmark.reactors.run_queued import Runner
from services.benchmark.reactors.schedule import Scheduler

NAME = "benchmark"
RUNS_AT_ONCE = 1  # a benchmark shares the model with people: one at a time per worker


async def build(host: ServiceHost) -> None:
    examiner = Examiner(host)
    commands, queries = BenchmarkCommands(host, examiner), BenchmarkQueries(host)
    runner, scheduler = Runner(host, examiner), Scheduler(host, commands)
    host.scheduler = scheduler  # tests and tools look by hand
    run_events = events_of(host.stream, benchmark.RUN)
    host.project(RunsProjection())
    host.react("benchmark.run", host.stream, runner.on_run, subject=run_events,
               give_up=runner.gave_up, concurrency=RUNS_AT_ONCE)  # fmt: skip
    host.react("benchmark.decide", host.stream, Decisions(host).on_run, subject=run_events)
    host.react("benchmark.after_training", registry.STREAM, AfterTraining(commands).on_registry,
               subject=events_of(registry.STREAM, registry.VERSIONS))  # fmt: skip
    host.react("benchmark.cascade", expert.STREAM, Cascade(host).on_expert,
               subject=events_of(expert.STREAM, expert.AGGREGATE))  # fmt: skip
    host.background("schedule", scheduler.loop)
    TenantErasure(host).wire()  # a forgotten person's runs, alerts, settings
    # what an erasure dropped from the views: no copy left in pages or WAL
    AfterErased(host, BENCH, (BenchErased,), ("runs", "alerts", "settings")).wire()
    host.endpoints.serve_handlers(commands, queries)
