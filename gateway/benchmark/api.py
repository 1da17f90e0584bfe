"""Benchmarks (`/api/benchmark...`): does an adapter make the expert better? Queue a run of
the built-in bank, the expert's own set or its custom questions (202, then follow it), read
runs and their per-question results, follow one live (SSE), cancel it, score it again with a
newer scorer; the dashboard's summary (time series, comparison table, alerts, formula); every
finished run exported as JSON or CSV; the expert's settings; and a diagnosis (its own
questions closed book, with retrieval, with the adapter).

The question routes live in `api_questions.py`, the export's rows in `export.py`. Every fixed path is declared before
`/api/benchmark/{run_id}`.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import msgspec
from litestar import Response, delete, get, post, put
from litestar.params import Parameter
from litestar.response import ServerSentEvent

from contracts.benchmark import (
    STREAM,
    BenchmarkView,
    BenchSettings,
    BenchSummary,
    CancelBenchmark,
    ConfigureBench,
    Diagnose,
    GetBenchmark,
    GetDiagnosis,
    GetResults,
    GetSummary,
    ListBenchmarks,
    RescoreBenchmark,
    Size,
    StartBenchmark,
    Suite,
)
from contracts.expert import GetExpert, ListExperts
from gateway.backend import Backend
from gateway.benchmark import api_questions, runs
from gateway.benchmark import export as benchmark_export
from gateway.http.errors import error_responses
from gateway.http.openapi import CSV, JSON, SSE, answering
from gateway.http.routes import one_message
from gateway.sse.follow import run_events

TAGS = ["benchmarks"]
EXPERT_ID = Parameter(query="expert_id", description="The expert's id.")
ADAPTER_ID = Parameter(
    query="adapter_id",
    default=None,
    description="Only this version's runs (`base`: the base model's).",
)
SINCE = Parameter(
    query="since", default=None, description="From this ISO date or time (inclusive)."
)
UNTIL = Parameter(query="until", default=None, description="Before this ISO date or time.")
EXPORT_LIMIT = 5000


class BenchmarkBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to measure: the expert, which questions, how many, and which version (default
    the active one; `base`: the base model)."""

    expert_id: str
    suite: Suite = "builtin"
    size: Size = "quick"
    adapter_id: str | None = None


class BenchmarkAccepted(BenchmarkView, frozen=True, kw_only=True):
    """The queued run as `GET /api/benchmark/{run_id}` shows it, its id under `run_id` too."""

    run_id: str


class DiagnoseBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expert_id: str
    size: Size = "quick"


@post(
    "/api/benchmark",
    summary="Queue a benchmark run of an expert",
    description="Answers 202 at once with the queued run; follow"
    " `GET /api/benchmark/{run_id}/progress` (SSE) or `GET /api/benchmark/{run_id}` until"
    " `status` is succeeded, failed or cancelled. A suite with no questions yet is a 400"
    " saying how to get some; an unknown version a 404; an invalid one a 409.",
    status_code=202,
    responses=error_responses(400, 404, 409),
)
async def start(data: BenchmarkBody, backend: Backend) -> Response[BenchmarkAccepted]:
    cmd = StartBenchmark(
        expert_id=data.expert_id, suite=data.suite, size=data.size, adapter_id=data.adapter_id
    )
    view = await runs.start(backend, cmd)
    body = BenchmarkAccepted(run_id=view.id, **msgspec.structs.asdict(view))
    return Response(body, status_code=202, headers={"Location": f"/api/benchmark/{view.id}"})


@get(
    "/api/benchmark",
    summary="Benchmark runs, newest first (of one expert with `expert_id`)",
    description="Each: `{id, expert_id, adapter_id, status, progress, composite_score,"
    " avg_quality, per_domain, avg_response_ms, tokens_per_s, vs_baseline_pct,"
    " vs_previous_pct, started_at, finished_at, ...}`.",
    responses=error_responses(400, 404),
)
async def list_runs(
    backend: Backend,
    expert_id: str | None = Parameter(default=None, description="Only this expert's runs."),
    adapter_id: str | None = ADAPTER_ID,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    limit: int = Parameter(default=200, ge=1, le=EXPORT_LIMIT),
) -> list[BenchmarkView]:
    experts = (
        [expert_id] if expert_id else [e.id for e in (await backend.ask(ListExperts())).experts]
    )
    lists = await asyncio.gather(
        *(
            runs.list_benchmarks(backend, ListBenchmarks(expert_id=e, adapter_id=adapter_id,
                                                   since=since, until=until, limit=limit))
            for e in experts
        )
    )  # fmt: skip
    found = (r for listed in lists for r in listed)
    return sorted(found, key=lambda r: r.queued_at, reverse=True)[:limit]


@get(
    "/api/benchmark/summary",
    summary="The dashboard: finished runs oldest first, active vs previous vs base, alerts",
    description="`points` are the finished runs (the time series), `comparison` the active"
    " version's, the previous version's and the base model's latest runs, `alerts` the"
    " promotions held back and regressions, `formula` how the composite score is made.",
    responses=error_responses(400, 404),
)
async def summary(
    backend: Backend,
    expert_id: str = EXPERT_ID,
    adapter_id: str | None = ADAPTER_ID,
    since: str | None = SINCE,
    until: str | None = UNTIL,
) -> BenchSummary:
    query = GetSummary(expert_id=expert_id, adapter_id=adapter_id, since=since, until=until)
    return await runs.summary(backend, query)


@get(
    "/api/benchmark/export",
    summary="Every finished run's metrics, one row per run, as JSON or CSV",
    description="The same rows and numbers in both formats; CSV has a header row. Filter"
    " with `adapter_id`, `since`, `until` as the summary does.",
    responses=error_responses(400, 404),
    operation_class=answering(JSON, CSV),
)
async def export(
    backend: Backend,
    expert_id: str = EXPERT_ID,
    format: Literal["json", "csv"] = Parameter(default="json"),
    adapter_id: str | None = ADAPTER_ID,
    since: str | None = SINCE,
    until: str | None = UNTIL,
) -> Response:
    query = GetSummary(expert_id=expert_id, adapter_id=adapter_id, since=since, until=until)
    points = (await runs.summary(backend, query)).points
    attachment = {"Content-Disposition": f'attachment; filename="benchmarks-{expert_id}.{format}"'}
    if format == "json":
        return Response(benchmark_export.rows(points), headers=attachment)
    return Response(
        benchmark_export.as_csv(points), media_type="text/csv; charset=utf-8", headers=attachment
    )


@get(
    "/api/benchmark/settings",
    summary="An expert's benchmark settings",
    description="`{promote_only_if_better, margin_points, after_training, schedule, judge}`.",
    responses=error_responses(400, 404),
)
async def get_settings(backend: Backend, expert_id: str = EXPERT_ID) -> BenchSettings:
    return (await runs.summary(backend, GetSummary(expert_id=expert_id))).settings


@put(
    "/api/benchmark/settings",
    summary="Change an expert's benchmark settings",
    description="Replaces them (what is left out goes back to its default). A schedule that"
    " is not a cron expression nor `off` is a 400 naming it.",
    responses=error_responses(400, 404),
)
async def put_settings(
    data: BenchSettings, backend: Backend, expert_id: str = EXPERT_ID
) -> BenchSettings:
    await backend.ask(GetExpert(expert_id=expert_id))
    cmd = ConfigureBench(expert_id=expert_id, settings=data)
    return (await backend.send(cmd, then=GetSummary(expert_id=expert_id))).settings


diagnose = one_message(
    post,
    "/api/benchmark/diagnose",
    Diagnose,
    name="diagnose",
    body=DiagnoseBody,
    summary="Diagnose a weak expert: its own questions closed book, with retrieval, with"
    " the adapter",
    description="Queues the runs and answers 202 with the diagnosis; follow"
    " `GET /api/benchmark/diagnosis`. An expert without its own question set is a 400 saying"
    " how to write one.",
    status_code=202,
    responses=error_responses(400, 404),
)


diagnosis = one_message(
    get,
    "/api/benchmark/diagnosis",
    GetDiagnosis,
    name="diagnosis",
    query={"expert_id": (str, EXPERT_ID)},
    known=GetExpert,
    summary="The latest diagnosis: each step's score, the verdict and its evidence",
    description="`status` is `none` before the first diagnosis.",
    responses=error_responses(400, 404),
)


get_one = one_message(
    get,
    "/api/benchmark/{run_id:str}",
    GetBenchmark,
    name="get_one",
    summary="One run: status, progress, composite score with its interval, metrics, trends",
    responses=error_responses(404),
)


results = one_message(
    get,
    "/api/benchmark/{run_id:str}/results",
    GetResults,
    name="results",
    summary="A run's questions and each answer's score, scorer and reasons",
    responses=error_responses(404),
)


cancel = one_message(
    delete,
    "/api/benchmark/{run_id:str}",
    CancelBenchmark,
    name="cancel",
    then=GetBenchmark,
    summary="Cancel a run that is queued or running",
    description="Answers the run as it is after the cancel (a run that had ended already is"
    " left as it was).",
    status_code=200,
    responses=error_responses(404),
)


rescore = one_message(
    post,
    "/api/benchmark/{run_id:str}/rescore",
    RescoreBenchmark,
    name="rescore",
    then=GetBenchmark,
    timeout=runs.RESCORE_TIMEOUT_S,
    summary="Score a finished run's answers again with the newest scorer",
    description="The old scores stay on the record. A run already scored by the newest"
    " scorer, or not finished, is a 409.",
    status_code=200,
    responses=error_responses(404, 409),
)


@get(
    "/api/benchmark/{run_id:str}/progress",
    summary="A run as Server-Sent Events, until it ends",
    description="The run (as `GET /api/benchmark/{run_id}` shows it) now, then each time it"
    " changes; the stream ends after the event whose status is succeeded, failed or"
    " cancelled.",
    responses=error_responses(404),
    operation_class=answering(SSE),
)
async def progress(run_id: str, backend: Backend) -> ServerSentEvent:
    await backend.ask(GetBenchmark(run_id=run_id))  # 404 before the stream starts
    return ServerSentEvent(run_events(backend, STREAM, GetBenchmark, run_id))


ROUTES = [
    start,
    list_runs,
    summary,
    export,
    get_settings,
    put_settings,
    diagnose,
    diagnosis,
    *api_questions.ROUTES,
    get_one,
    results,
    cancel,
    rescore,
    progress,
]
