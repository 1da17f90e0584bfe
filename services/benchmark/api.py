"""Wiring of the benchmark service: its endpoints, its read model, the run work queue, the
policies that follow training and runs, and the schedule."""

from __future__ import annotations

from contracts.benchmark import (
    AddQuestions,
    CancelBenchmark,
    ConfigureBench,
    Diagnose,
    GenerateExpertSet,
    GetBenchmark,
    GetDiagnosis,
    GetResults,
    GetSummary,
    ListBenchmarks,
    ListQuestions,
    RemoveQuestion,
    RescoreBenchmark,
    StartBenchmark,
)
from runtime.service import ServiceHost
from services.benchmark.diagnosing import Diagnosing
from services.benchmark.handlers import BenchmarkHandlers
from services.benchmark.policies import AfterTraining, Decisions
from services.benchmark.projections import RunsProjection
from services.benchmark.rescoring import Rescoring
from services.benchmark.runner import RUN_EVENTS, Runner
from services.benchmark.schedule import Scheduler

NAME = "benchmark"
RUNS_AT_ONCE = 1  # a benchmark shares the model with people: one at a time per worker
REGISTERED = "evt.registry.*.versions.>"


async def build(host: ServiceHost) -> None:
    handlers = BenchmarkHandlers(host)
    runner = Runner(host)
    diagnosing = Diagnosing(handlers)
    scheduler = Scheduler(host, handlers)
    host.scheduler = scheduler  # tests and tools look by hand
    host.project(RunsProjection())
    host.react("benchmark.run", "BENCHMARK", runner.on_run, subject=RUN_EVENTS,
               give_up=runner.gave_up, concurrency=RUNS_AT_ONCE)  # fmt: skip
    host.react("benchmark.decide", "BENCHMARK", Decisions(handlers).on_run, subject=RUN_EVENTS)
    host.react("benchmark.after_training", "REGISTRY", AfterTraining(handlers).on_registry,
               subject=REGISTERED)  # fmt: skip
    host.background("schedule", scheduler.loop)
    host.endpoints.serve(StartBenchmark, handlers.start)
    host.endpoints.serve(CancelBenchmark, handlers.cancel)
    host.endpoints.serve(ConfigureBench, handlers.configure)
    host.endpoints.serve(AddQuestions, handlers.add_questions)
    host.endpoints.serve(RemoveQuestion, handlers.remove_question)
    host.endpoints.serve(GenerateExpertSet, handlers.generate_set)
    host.endpoints.serve(RescoreBenchmark, Rescoring(host, runner).rescore)
    host.endpoints.serve(Diagnose, diagnosing.diagnose)
    host.endpoints.serve(GetBenchmark, handlers.get)
    host.endpoints.serve(ListBenchmarks, handlers.list)
    host.endpoints.serve(GetResults, handlers.results)
    host.endpoints.serve(ListQuestions, handlers.questions_of)
    host.endpoints.serve(GetSummary, handlers.summary)
    host.endpoints.serve(GetDiagnosis, diagnosing.diagnosis)
