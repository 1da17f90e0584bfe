"""Wiring of the trainer service: its endpoints, its projections, the run reactor and the
schedule."""

from __future__ import annotations

from contracts.trainer import (
    CancelFinetune,
    ConfigureFinetune,
    EstimateRun,
    GetFinetuneSettings,
    GetRun,
    ListRuns,
    StartFinetune,
)
from runtime.secrets import SecretBox
from runtime.service import ServiceHost
from services.trainer.cascade import Cascade
from services.trainer.data import TokenCounter
from services.trainer.handlers import TrainerHandlers
from services.trainer.hosted_run import HostedTraining
from services.trainer.local_run import LocalTraining
from services.trainer.projections import DatasetsProjection, RunsProjection
from services.trainer.runner import Runner
from services.trainer.schedule import Scheduler

NAME = "trainer"
LINE_EVENTS = "evt.trainer.*.line.>"
RUNS_AT_ONCE = 1  # one run per worker: start more workers to train more at once


async def build(host: ServiceHost) -> None:
    secrets = SecretBox.open(host.settings.home, host.settings.secret_key)
    handlers = TrainerHandlers(host, secrets, TokenCounter(host.settings))
    runner = Runner(host, LocalTraining(host), HostedTraining(host, secrets))
    scheduler = Scheduler(host, handlers)
    host.scheduler = scheduler  # tests and tools tick it by hand
    host.project(RunsProjection())
    host.project(DatasetsProjection())
    host.react(
        "trainer.run",
        "TRAINER",
        runner.on_line,
        subject=LINE_EVENTS,
        give_up=runner.gave_up,
        concurrency=RUNS_AT_ONCE,
    )
    host.react("trainer.cascade", "EXPERT", Cascade(host).on_expert)
    host.background("schedule", scheduler.loop)
    host.endpoints.serve(ConfigureFinetune, handlers.configure)
    host.endpoints.serve(StartFinetune, handlers.start)
    host.endpoints.serve(CancelFinetune, handlers.cancel)
    host.endpoints.serve(GetRun, handlers.get)
    host.endpoints.serve(ListRuns, handlers.list)
    host.endpoints.serve(GetFinetuneSettings, handlers.settings)
    host.endpoints.serve(EstimateRun, handlers.estimate)
