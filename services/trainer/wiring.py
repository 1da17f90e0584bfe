"""Wiring of the trainer service: its endpoints, its projections, the reactors (a queued run
trained, a deleted expert's runs cancelled) and the schedule."""

from __future__ import annotations

from contracts.expert import STREAM as EXPERTS
from contracts.trainer import BUCKET as ADAPTERS
from contracts.trainer import (
    CHECKPOINTS,
    LINE,
    RUN,
    RunsErased,
)
from contracts.trainer import LINE as RUN_LINE
from runtime.erasure import AfterErased, TenantErasure
from runtime.eventstore import events_of
from runtime.keyring import ProviderKeys
from runtime.service import ServiceHost
from runtime.sweeping import sweep_forever
from services.trainer.commands import TrainerCommands
from services.trainer.data import TokenCounter
from services.trainer.forgotten import tenant_paths
from services.trainer.hosted.training import HostedTraining
from services.trainer.local.training import LocalTraining
from services.trainer.planning import Planner
from services.trainer.projections import DatasetsProjection, RunsProjection
from services.trainer.queries import TrainerQueries
from services.trainer.reactors.expert_deleted import Cascade
from services.trainer.reactors.run_ended import RunEnded
from services.trainer.reactors.run_queued import Runner
from services.trainer.reactors.schedule import Scheduler
from services.trainer.sweeper import TrainerSweeper

NAME = "trainer"
RUNS_AT_ONCE = 1  # one run per worker: start more workers to train more at once


async def build(host: ServiceHost) -> None:
    secrets = ProviderKeys.of(host.settings, host.engine)  # API keys sealed per tenant
    planner = Planner(host, TokenCounter(host.settings))
    queries = TrainerQueries(host, planner)
    commands = TrainerCommands(host, secrets, planner, queries)
    runner = Runner(host, LocalTraining(host), HostedTraining(host, secrets))
    scheduler = Scheduler(host, planner, commands)
    host.scheduler = scheduler  # tests and tools tick it by hand
    host.project(RunsProjection())
    host.project(DatasetsProjection())
    host.react(
        "trainer.run",
        host.stream,
        runner.on_line,
        subject=events_of(host.stream, LINE),
        give_up=runner.gave_up,
        concurrency=RUNS_AT_ONCE,
    )
    host.react("trainer.cascade", EXPERTS, Cascade(host).on_expert)
    host.react(  # a run's end stops its provider job and settles its spend
        "trainer.ended",
        host.stream,
        RunEnded(host, secrets).on_run,
        subject=events_of(host.stream, RUN),
    )
    host.background("schedule", scheduler.loop)
    host.sweeper = TrainerSweeper(host)  # tests and tools sweep by hand
    host.background("sweep", lambda: sweep_forever("trainer", host.sweeper.sweep))
    # a forgotten person's runs: rows, checkpoints, adapter files, work folders
    TenantErasure(
        host, buckets=(CHECKPOINTS, ADAPTERS), paths=tenant_paths(host.settings.home)
    ).wire()
    # what an erasure dropped from the views: no copy left in pages or WAL
    AfterErased(host, RUN_LINE, (RunsErased,), ("runs", "settings")).wire()
    host.endpoints.serve_handlers(commands, queries)
