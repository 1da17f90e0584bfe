"""An expert's benchmarks in the console: the dashboard (`/experts/{id}/benchmark`) and a
run's page (`/benchmark/{run_id}`); the question editor and the diagnosis are in
`question_pages`.

The dashboard queues quick and full runs and shows the latest one live: while it is going,
htmx fetches its panel every second (with Cancel); when it ends the panel says
`benchmark-ended` and the summary below (charts, comparison table, alerts) is fetched again.
The charts' data sits in a JSON block that `web/static/benchmarks.js` draws with Chart.js.

Every form works without JavaScript: a POST answered with a redirect when it worked, or the
page with the error in plain words; with htmx the same endpoints answer the page, of which
htmx keeps the part the form is about (`hx-select`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from contracts.base import DomainError
from contracts.benchmark import (
    COMPOSITE_FORMULA,
    BenchSummary,
    CancelBenchmark,
    ConfigureBench,
    GetBenchmark,
    GetResults,
    GetSummary,
    ListBenchmarks,
)
from contracts.expert import GetExpert
from contracts.registry import ListAdapters
from gateway.backend import Backend
from gateway.benchmark import runs as reads
from gateway.benchmark.forms import (
    ACTIVE,
    Filters,
    SettingsForm,
    StartForm,
)
from gateway.benchmark.views import (
    SUITES,
    Run,
    answers,
    chart_data,
    comparison,
    notices,
    runs,
)
from gateway.http.pages import FORM, is_htmx

RECENT = 20


def refused(exc: DomainError) -> str:
    """A service's refusal in the page's words; a 5xx is not a person's mistake: raised."""
    if exc.status >= 500:
        raise exc
    return exc.detail


async def summary_context(backend: Backend, expert_id: str, filters: Filters) -> dict[str, Any]:
    """What `benchmark/summary.html` shows: the charts' data, the comparison table, the
    latest finished run's trends, the alerts, the recent runs and the export links."""
    filter_error = None
    try:
        summary = await reads.summary(backend, filters.query(expert_id))
    except DomainError as exc:
        filter_error = refused(exc)
        summary = await reads.summary(backend, Filters().query(expert_id))
    query = filters.query(expert_id) if filter_error is None else Filters().query(expert_id)
    listed = ListBenchmarks(expert_id=expert_id, adapter_id=query.adapter_id, since=query.since,
                            until=query.until, limit=RECENT)  # fmt: skip
    recent = await reads.list_benchmarks(backend, listed)
    return {
        "summary": summary,
        "filters": filters,
        "filter_error": filter_error,
        "chart": chart_data(summary),
        "rows": comparison(summary),
        "notices": notices(summary),
        "latest": Run(summary.points[-1]) if summary.points else None,
        "recent": runs(recent),
        "export_query": (Filters() if filter_error else filters).export_query(expert_id),
    }


async def live_context(
    backend: Backend, expert_id: str, summary: BenchSummary | None = None, **more: Any
) -> dict[str, Any]:
    """What `benchmark/live.html` shows: Run quick / Run full and the latest run. The
    question counts come from `summary` when the caller has read it already."""
    expert, adapters, latest = await asyncio.gather(
        backend.ask(GetExpert(expert_id=expert_id)),
        backend.ask(ListAdapters(expert_id=expert_id)),
        reads.list_benchmarks(backend, ListBenchmarks(expert_id=expert_id, limit=1)),
    )
    if summary is None:
        summary = await reads.summary(backend, Filters().query(expert_id))
    return {
        "expert": expert,
        "versions": [a for a in adapters.adapters if a.valid],
        "counts": summary.questions,
        "suites": SUITES,
        "active_choice": ACTIVE,
        "current": Run(latest[0]) if latest else None,
        "start": StartForm(),
        "start_error": None,
        **more,
    }


def settings_context(summary: BenchSummary, form: SettingsForm | None = None, **more: Any):
    return {
        "settings_form": form or SettingsForm.of(summary.settings),
        "settings_errors": {},
        "saved": False,
        **more,
    }


async def dashboard(
    backend: Backend, expert_id: str, filters: Filters | None = None, status: int = 200, **more
) -> Template:
    shown = await summary_context(backend, expert_id, filters or Filters())
    context = await live_context(backend, expert_id, shown["summary"]) | shown
    context |= settings_context(context["summary"])
    context |= {"formula": COMPOSITE_FORMULA, **more}
    return Template("benchmark/dashboard.html", context=context, status_code=status)


class DashboardPages(Controller):
    include_in_schema = False

    @get("/experts/{expert_id:str}/benchmark")
    async def page(
        self, expert_id: str, backend: Backend, since: str = "", until: str = "", adapter: str = ""
    ) -> Template:
        return await dashboard(
            backend, expert_id, Filters(since=since, until=until, adapter=adapter)
        )

    @get("/ui/experts/{expert_id:str}/benchmark/summary")
    async def summary(
        self, expert_id: str, backend: Backend, since: str = "", until: str = "", adapter: str = ""
    ) -> Template:
        filters = Filters(since=since, until=until, adapter=adapter)
        context = await summary_context(backend, expert_id, filters)
        expert = await backend.ask(GetExpert(expert_id=expert_id))
        context |= {"expert": expert, "formula": COMPOSITE_FORMULA}
        return Template("benchmark/summary.html", context=context)

    @post("/ui/experts/{expert_id:str}/benchmark/runs")
    async def start(
        self, request: Request, expert_id: str, backend: Backend, data: StartForm = FORM
    ) -> Response:
        try:
            await reads.start(backend, data.command(expert_id))
        except DomainError as exc:
            error = refused(exc)
            if not is_htmx(request):
                return await dashboard(backend, expert_id, status=exc.status, start=data,
                                       start_error=error)  # fmt: skip
            context = await live_context(backend, expert_id, start=data, start_error=error)
            return Template("benchmark/live.html", context=context, status_code=exc.status)
        if not is_htmx(request):
            return Redirect(f"/experts/{expert_id}/benchmark", status_code=303)
        context = await live_context(backend, expert_id, start=data)
        return Template("benchmark/live.html", context=context)

    @get("/ui/benchmark/{run_id:str}/live")
    async def live(self, run_id: str, backend: Backend) -> Template:
        """The run's panel, polled while it goes; the one that finds it ended says so, and
        the dashboard's summary is fetched again."""
        run = Run(await backend.ask(GetBenchmark(run_id=run_id)))
        ended = {} if run.active else {"HX-Trigger": "benchmark-ended"}
        return Template("benchmark/run_panel.html", context={"run": run}, headers=ended)

    @post("/ui/benchmark/{run_id:str}/cancel")
    async def cancel(self, request: Request, run_id: str, backend: Backend) -> Response:
        then = GetBenchmark(run_id=run_id)
        run = Run(await backend.send(CancelBenchmark(run_id=run_id), then=then))
        if not is_htmx(request):
            return Redirect(f"/experts/{run.view.expert_id}/benchmark", status_code=303)
        return Template("benchmark/run_panel.html", context={"run": run},
                        headers={"HX-Trigger": "benchmark-ended"})  # fmt: skip

    @post("/ui/experts/{expert_id:str}/benchmark/settings")
    async def configure(
        self, request: Request, expert_id: str, backend: Backend, data: SettingsForm = FORM
    ) -> Response:
        settings, errors = data.settings()
        if settings is not None:
            try:
                cmd = ConfigureBench(expert_id=expert_id, settings=settings)
                summary = await backend.send(cmd, then=GetSummary(expert_id=expert_id))
            except DomainError as exc:
                errors = {"schedule" if "schedule" in exc.detail else "": refused(exc)}
        if errors:
            return await dashboard(backend, expert_id, status=400, settings_form=data,
                                   settings_errors=errors)  # fmt: skip
        if not is_htmx(request):
            return Redirect(f"/experts/{expert_id}/benchmark", status_code=303)
        context = {"expert": await backend.ask(GetExpert(expert_id=expert_id))}
        context |= settings_context(summary, saved=True)
        return Template("benchmark/settings_form.html", context=context)


class RunPages(Controller):
    include_in_schema = False

    @get("/benchmark/{run_id:str}")
    async def page(self, run_id: str, backend: Backend) -> Template:
        view = await backend.ask(GetBenchmark(run_id=run_id))
        expert, scored = await asyncio.gather(
            backend.ask(GetExpert(expert_id=view.expert_id)),
            backend.ask(GetResults(run_id=run_id)),
        )
        context = {
            "expert": expert,
            "run": Run(view),
            "answers": answers(scored.questions, scored.results),
            "scorer_version": scored.scorer_version,
        }
        return Template("benchmark/run.html", context=context)


ROUTES = [DashboardPages, RunPages]
