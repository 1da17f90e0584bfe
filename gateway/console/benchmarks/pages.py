"""An expert's benchmarks in the console: the dashboard (`/experts/{id}/benchmarks`), the
question-set editor (`.../benchmarks/questions`), the diagnosis (`.../benchmarks/diagnosis`)
and a run's page (`/benchmarks/{run_id}`).

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
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import COMPOSITE_FORMULA, BenchSummary, ListBenchmarks, Size
from gateway.backend import Backend
from gateway.bench_questions import from_jsonl
from gateway.console.benchmarks.forms import (
    ACTIVE,
    Filters,
    QuestionForm,
    SettingsForm,
    StartForm,
)
from gateway.console.benchmarks.views import (
    SUITES,
    Run,
    answers,
    chart_data,
    comparison,
    notices,
    runs,
    setup_label,
)
from gateway.console.htmx import is_htmx

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
RECENT = 20
KINDS = (
    ("text", "Free text: compared with the reference"),
    ("value", "A value: a number or a short exact answer"),
    ("knowledge", "From the documents: should cite where it is"),
)


def refused(exc: DomainError) -> str:
    """A service's refusal in the page's words; a 5xx is not a person's mistake: raised."""
    if exc.status >= 500:
        raise exc
    return exc.detail


async def summary_context(backend: Backend, expert_id: str, filters: Filters) -> dict[str, Any]:
    """What `benchmarks/summary.html` shows: the charts' data, the comparison table, the
    latest finished run's trends, the alerts, the recent runs and the export links."""
    filter_error = None
    try:
        summary = await backend.benchmark_summary(filters.query(expert_id))
    except DomainError as exc:
        filter_error = refused(exc)
        summary = await backend.benchmark_summary(Filters().query(expert_id))
    query = filters.query(expert_id) if filter_error is None else Filters().query(expert_id)
    listed = ListBenchmarks(expert_id=expert_id, adapter_id=query.adapter_id, since=query.since,
                            until=query.until, limit=RECENT)  # fmt: skip
    recent = await backend.list_benchmarks(listed)
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
    """What `benchmarks/live.html` shows: Run quick / Run full and the latest run. The
    question counts come from `summary` when the caller has read it already."""
    expert, adapters, latest = await asyncio.gather(
        backend.get_expert(expert_id),
        backend.list_adapters(expert_id),
        backend.list_benchmarks(ListBenchmarks(expert_id=expert_id, limit=1)),
    )
    if summary is None:
        summary = await backend.benchmark_summary(Filters().query(expert_id))
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
    return Template("benchmarks/dashboard.html", context=context, status_code=status)


class DashboardPages(Controller):
    include_in_schema = False

    @get("/experts/{expert_id:str}/benchmarks")
    async def page(
        self, expert_id: str, backend: Backend, since: str = "", until: str = "", adapter: str = ""
    ) -> Template:
        return await dashboard(
            backend, expert_id, Filters(since=since, until=until, adapter=adapter)
        )

    @get("/ui/experts/{expert_id:str}/benchmarks/summary")
    async def summary(
        self, expert_id: str, backend: Backend, since: str = "", until: str = "", adapter: str = ""
    ) -> Template:
        filters = Filters(since=since, until=until, adapter=adapter)
        context = await summary_context(backend, expert_id, filters)
        context |= {"expert": await backend.get_expert(expert_id), "formula": COMPOSITE_FORMULA}
        return Template("benchmarks/summary.html", context=context)

    @post("/ui/experts/{expert_id:str}/benchmarks/runs")
    async def start(
        self, request: Request, expert_id: str, backend: Backend, data: StartForm = FORM
    ) -> Response:
        try:
            await backend.start_benchmark(data.command(expert_id))
        except DomainError as exc:
            error = refused(exc)
            if not is_htmx(request):
                return await dashboard(backend, expert_id, status=exc.status, start=data,
                                       start_error=error)  # fmt: skip
            context = await live_context(backend, expert_id, start=data, start_error=error)
            return Template("benchmarks/live.html", context=context, status_code=exc.status)
        if not is_htmx(request):
            return Redirect(f"/experts/{expert_id}/benchmarks", status_code=303)
        context = await live_context(backend, expert_id, start=data)
        return Template("benchmarks/live.html", context=context)

    @get("/ui/benchmarks/{run_id:str}/live")
    async def live(self, run_id: str, backend: Backend) -> Template:
        """The run's panel, polled while it goes; the one that finds it ended says so, and
        the dashboard's summary is fetched again."""
        run = Run(await backend.get_benchmark(run_id))
        ended = {} if run.active else {"HX-Trigger": "benchmark-ended"}
        return Template("benchmarks/run_panel.html", context={"run": run}, headers=ended)

    @post("/ui/benchmarks/{run_id:str}/cancel")
    async def cancel(self, request: Request, run_id: str, backend: Backend) -> Response:
        run = Run(await backend.cancel_benchmark(run_id))
        if not is_htmx(request):
            return Redirect(f"/experts/{run.view.expert_id}/benchmarks", status_code=303)
        return Template("benchmarks/run_panel.html", context={"run": run},
                        headers={"HX-Trigger": "benchmark-ended"})  # fmt: skip

    @post("/ui/experts/{expert_id:str}/benchmarks/settings")
    async def configure(
        self, request: Request, expert_id: str, backend: Backend, data: SettingsForm = FORM
    ) -> Response:
        settings, errors = data.settings()
        if settings is not None:
            try:
                summary = await backend.configure_benchmarks(expert_id, settings)
            except DomainError as exc:
                errors = {"schedule" if "schedule" in exc.detail else "": refused(exc)}
        if errors:
            return await dashboard(backend, expert_id, status=400, settings_form=data,
                                   settings_errors=errors)  # fmt: skip
        if not is_htmx(request):
            return Redirect(f"/experts/{expert_id}/benchmarks", status_code=303)
        context = {"expert": await backend.get_expert(expert_id)}
        context |= settings_context(summary, saved=True)
        return Template("benchmarks/settings_form.html", context=context)


async def questions_page(
    backend: Backend, expert_id: str, status: int = 200, **more: Any
) -> Template:
    expert, questions = await asyncio.gather(
        backend.get_expert(expert_id), backend.benchmark_questions(expert_id)
    )
    by_suite = {suite: [q for q in questions if q.source == suite] for suite in SUITES}
    context = {
        "expert": expert,
        "by_suite": by_suite,
        "suites": SUITES,
        "kinds": KINDS,
        "form": QuestionForm(),
        "notice": None,
        "error": None,
        "error_for": None,
        **more,
    }
    return Template("benchmarks/questions.html", context=context, status_code=status)


async def question_change(request: Request, backend: Backend, expert_id: str, change, about: str,
                          form: QuestionForm | None = None) -> Response:  # fmt: skip
    """Make a change to the questions; the page with what was done, or why not beside the
    form it is about (`add`, `import`, `generate` or a question's id)."""
    try:
        notice = await change()
    except DomainError as exc:
        return await questions_page(backend, expert_id, exc.status, error=refused(exc),
                                    error_for=about, form=form or QuestionForm())  # fmt: skip
    if not is_htmx(request):
        return Redirect(f"/experts/{expert_id}/benchmarks/questions", status_code=303)
    return await questions_page(backend, expert_id, notice=notice)


class QuestionPages(Controller):
    include_in_schema = False

    @get("/experts/{expert_id:str}/benchmarks/questions")
    async def page(self, expert_id: str, backend: Backend) -> Template:
        return await questions_page(backend, expert_id)

    @post("/ui/experts/{expert_id:str}/benchmarks/questions")
    async def add(
        self, request: Request, expert_id: str, backend: Backend, data: QuestionForm = FORM
    ) -> Response:
        async def change() -> str:
            question = data.question_in().question_of()
            await backend.add_benchmark_questions(expert_id, [question])
            return "The question is added to your custom questions."

        return await question_change(request, backend, expert_id, change, "add", data)

    @post("/ui/experts/{expert_id:str}/benchmarks/questions/import")
    async def import_jsonl(self, request: Request, expert_id: str, backend: Backend) -> Response:
        async def change() -> str:
            upload = (await request.form()).get("file")
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise DomainError(ErrorCode.INVALID, "Choose a .jsonl file to import.")
            questions = from_jsonl(await upload.read())
            await backend.add_benchmark_questions(expert_id, questions)
            return f"Imported {len(questions)} question{'s' if len(questions) != 1 else ''}."

        return await question_change(request, backend, expert_id, change, "import")

    @post("/ui/experts/{expert_id:str}/benchmarks/questions/generate")
    async def generate(self, request: Request, expert_id: str, backend: Backend) -> Response:
        async def change() -> str:
            await backend.generate_benchmark_set(expert_id)
            made = await backend.benchmark_questions(expert_id, "expert")
            return f"Wrote {len(made)} questions from its documents."

        return await question_change(request, backend, expert_id, change, "generate")

    @post("/ui/experts/{expert_id:str}/benchmarks/questions/{question_id:str}/delete")
    async def delete(
        self, request: Request, expert_id: str, question_id: str, backend: Backend
    ) -> Response:
        async def change() -> str:
            await backend.remove_benchmark_question(expert_id, question_id)
            return "The question is deleted."

        return await question_change(request, backend, expert_id, change, question_id)


async def diagnosis_page(backend: Backend, expert_id: str, status: int = 200, **more) -> Template:
    expert, diagnosis = await asyncio.gather(
        backend.get_expert(expert_id), backend.diagnosis(expert_id)
    )
    context = {"expert": expert, "diagnosis": diagnosis, "setup_label": setup_label,
               "error": None, **more}  # fmt: skip
    return Template("benchmarks/diagnosis.html", context=context, status_code=status)


class DiagnosisPages(Controller):
    include_in_schema = False

    @get("/experts/{expert_id:str}/benchmarks/diagnosis")
    async def page(self, expert_id: str, backend: Backend) -> Template:
        return await diagnosis_page(backend, expert_id)

    @post("/ui/experts/{expert_id:str}/benchmarks/diagnose")
    async def diagnose(
        self, request: Request, expert_id: str, backend: Backend, data: dict[str, str] = FORM
    ) -> Response:
        size: Size = "full" if data.get("size") == "full" else "quick"
        try:
            diagnosis = await backend.diagnose(expert_id, size)
        except DomainError as exc:
            return await diagnosis_page(backend, expert_id, exc.status, error=refused(exc))
        if not is_htmx(request):
            return Redirect(f"/experts/{expert_id}/benchmarks/diagnosis", status_code=303)
        return await diagnosis_page(backend, expert_id, diagnosis=diagnosis)


class RunPages(Controller):
    include_in_schema = False

    @get("/benchmarks/{run_id:str}")
    async def page(self, run_id: str, backend: Backend) -> Template:
        view = await backend.get_benchmark(run_id)
        expert, scored = await asyncio.gather(
            backend.get_expert(view.expert_id), backend.benchmark_results(run_id)
        )
        context = {
            "expert": expert,
            "run": Run(view),
            "answers": answers(scored.questions, scored.results),
            "scorer_version": scored.scorer_version,
        }
        return Template("benchmarks/run.html", context=context)


ROUTES = [DashboardPages, QuestionPages, DiagnosisPages, RunPages]
