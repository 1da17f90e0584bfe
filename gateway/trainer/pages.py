"""An expert's fine-tuning dashboard (`/experts/{id}/trainer`) and a run's page
(`/trainer/{run_id}`).

The dashboard shows the run that is going (or the latest one) with its step, losses, time
left or place in the queue and a loss chart that `web/static/finetune.js` draws and keeps
live from `GET /api/finetune/{run_id}/progress` (SSE); when the run ends, the script fires
`finetune-ended` and htmx fetches the dashboard's live part again. Below it: Run now (a
hosted run first shows its estimated cost and the budget, and is queued only once
confirmed; a local one shows how long it is expected to take), what there is to train on,
the schedule, the spend, the recent runs, and the settings form.

Every form works without JavaScript (a POST answered with a redirect, or the page with the
error); with htmx the same endpoints answer the fragment they change.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from contracts.base import DomainError, ErrorCode
from contracts.expert import GetExpert
from contracts.trainer import (
    RANGES,
    CancelFinetune,
    Estimate,
    EstimateRun,
    FinetuneSettings,
    GetFinetuneSettings,
    GetRun,
    ListRuns,
    RunView,
)
from gateway.backend import Backend
from gateway.dataset.datasets import list_datasets
from gateway.http.pages import FORM, is_htmx
from gateway.trainer.api import ESTIMATE_TIMEOUT_S
from gateway.trainer.forms import BACKENDS, ConfigForm, StartForm
from gateway.trainer.views import Outlook, Run, estimate_words, fields, runs

RECENT = 20
HOSTED_FIELDS = {
    "hosted.base_url": "hosted_base_url",
    "hosted.model": "hosted_model",
    "hosted.price_per_million_tokens_usd": "hosted_price",
    "hosted.api_key": "hosted_api_key",
}
OTHER_FIELDS = ("base_model", "backend", "budget_usd")


async def settings_of(backend: Backend, expert_id: str, after_seq: int = 0) -> FinetuneSettings:
    query = GetFinetuneSettings(expert_id=expert_id, after_seq=after_seq)
    return await backend.ask(query)


async def estimate_of(backend: Backend, expert_id: str, dataset_id: str | None, config=None):
    query = EstimateRun(expert_id=expert_id, dataset_id=dataset_id, config=config)
    return await backend.ask(query, timeout=ESTIMATE_TIMEOUT_S)


async def live_context(
    backend: Backend,
    expert_id: str,
    *,
    after_seq: int = 0,
    start: StartForm | None = None,
    start_error: str | None = None,
    confirm: Estimate | None = None,
    started: RunView | None = None,
) -> dict[str, Any]:
    """What `finetune/live.html` shows: the current run, Run now, data, schedule, spend,
    the recent runs."""
    query = ListRuns(expert_id=expert_id, limit=RECENT, after_seq=after_seq)
    expert, settings, listed, datasets = await asyncio.gather(
        backend.ask(GetExpert(expert_id=expert_id)),
        settings_of(backend, expert_id, after_seq),
        backend.ask(query),
        list_datasets(backend, expert_id),
    )
    views = listed.runs
    ready = [d for d in datasets if d.status == "ready"]
    recent = runs(views, datasets)
    current = recent[0] if recent else None
    if settings.active_run:
        current = next((r for r in recent if r.id == settings.active_run), None)
        if current is None:  # an old run still waiting, past the recent ones
            old = await backend.ask(GetRun(run_id=settings.active_run))
            current = runs([old], datasets)[0]
    newest = next((d for d in ready if d.id == settings.dataset_id), None)
    estimate, estimate_note = None, None
    if confirm is None and ready and settings.dataset_examples >= settings.min_examples:
        try:
            estimate = await estimate_of(backend, expert_id, None)
        except DomainError as exc:
            if exc.status >= 500:
                raise
            estimate_note = exc.detail
    return {
        "expert": expert,
        "settings": settings,
        "outlook": Outlook(settings, newest),
        "current": current,
        "recent": recent,
        "ready": ready,
        "backends": BACKENDS,
        "start": start or StartForm(),
        "start_error": start_error,
        "estimate": estimate_words(estimate) if estimate else None,
        "estimate_note": estimate_note,
        "confirm": confirm,
        "started": Run(started) if started else None,
    }


def config_context(
    settings: FinetuneSettings,
    form: ConfigForm | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    key_dropped: bool = False,
) -> dict[str, Any]:
    return {
        "settings": settings,
        "form": form or ConfigForm.of(settings),
        "fields": fields(settings),
        "backends": BACKENDS,
        "errors": errors or {},
        "saved": saved,
        "key_dropped": key_dropped,
    }


async def dashboard(backend: Backend, expert_id: str, status: int = 200, **live: Any) -> Template:
    context = await live_context(backend, expert_id, **live)
    context |= config_context(context["settings"])
    return Template("trainer/dashboard.html", context=context, status_code=status)


def field_of(detail: str) -> str:
    """The settings form's field a service's sentence is about ("" when it names none)."""
    for path, name in HOSTED_FIELDS.items():
        if path in detail:
            return name
    words = re.findall(r"[a-z_]+", detail)
    return next((w for w in words if w in RANGES or w in OTHER_FIELDS), "")


class FinetunePages(Controller):
    include_in_schema = False

    @get("/experts/{expert_id:str}/trainer")
    async def page(self, expert_id: str, backend: Backend, saved: bool = False) -> Template:
        template = await dashboard(backend, expert_id)
        template.context["saved"] = saved
        return template

    @get("/ui/experts/{expert_id:str}/trainer/live")
    async def live(self, expert_id: str, backend: Backend) -> Template:
        context = await live_context(backend, expert_id)
        return Template("trainer/live.html", context=context)

    @post("/ui/experts/{expert_id:str}/trainer/runs")
    async def start(
        self,
        request: Request,
        expert_id: str,
        backend: Backend,
        data: StartForm = FORM,
    ) -> Response:
        confirm, error, status = None, None, 200
        settings = await settings_of(backend, expert_id)  # 404 for an expert that is not there
        try:
            cmd = data.command(expert_id, settings)
            accepted = await backend.send(cmd)
        except DomainError as exc:
            if exc.status >= 500:
                raise
            if exc.code == ErrorCode.CONFIRM:
                confirm = await estimate_of(backend, expert_id, cmd.dataset_id, cmd.config)
            else:
                error, status = exc.detail, exc.status
            if not is_htmx(request):
                return await dashboard(
                    backend, expert_id, status, start=data, start_error=error, confirm=confirm
                )
            context = await live_context(
                backend, expert_id, start=data, start_error=error, confirm=confirm
            )
            return Template("trainer/live.html", context=context, status_code=status)
        if not is_htmx(request):
            return Redirect(f"/experts/{expert_id}/trainer", status_code=303)
        view = await backend.ask(GetRun(run_id=accepted.run_id, after_seq=accepted.seq))
        context = await live_context(backend, expert_id, after_seq=accepted.seq, started=view)
        return Template("trainer/live.html", context=context)

    @post("/ui/trainer/{run_id:str}/cancel")
    async def cancel(self, request: Request, run_id: str, backend: Backend) -> Response:
        accepted = await backend.send(CancelFinetune(run_id=run_id))
        view = await backend.ask(GetRun(run_id=run_id, after_seq=accepted.seq))
        if not is_htmx(request):
            return Redirect(f"/experts/{view.expert_id}/trainer", status_code=303)
        context = await live_context(backend, view.expert_id, after_seq=accepted.seq)
        return Template("trainer/live.html", context=context)

    @post("/ui/experts/{expert_id:str}/trainer/config")
    async def configure(
        self,
        request: Request,
        expert_id: str,
        backend: Backend,
        data: dict[str, Any] = FORM,
    ) -> Response:
        form = ConfigForm.typed(data)
        api_key = str(data.get("hosted_api_key") or "")
        cmd, errors = form.command(expert_id, api_key)
        if cmd is not None:
            try:
                accepted = await backend.send(cmd)
            except DomainError as exc:
                if exc.status != 400:
                    raise
                errors = {field_of(exc.detail): exc.detail}
        if errors:
            settings = await settings_of(backend, expert_id)
            context = config_context(settings, form, errors, key_dropped=bool(api_key.strip()))
            if is_htmx(request):
                return Template("trainer/config_form.html", context=context, status_code=400)
            context |= await live_context(backend, expert_id)
            context |= config_context(settings, form, errors, key_dropped=bool(api_key.strip()))
            return Template("trainer/dashboard.html", context=context, status_code=400)
        if not is_htmx(request):
            return Redirect(f"/experts/{expert_id}/trainer?saved=true", status_code=303)
        settings = await settings_of(backend, expert_id, after_seq=accepted.seq)
        return Template(
            "trainer/config_form.html",
            context=config_context(settings, saved=True),
            headers={"HX-Trigger": "finetune-settings-saved"},  # Run now's estimate changes
        )


class RunPages(Controller):
    include_in_schema = False

    @get("/trainer/{run_id:str}")
    async def page(self, run_id: str, backend: Backend) -> Template:
        view = await backend.ask(GetRun(run_id=run_id))
        datasets = await list_datasets(backend, view.expert_id)
        context = {
            "expert": await backend.ask(GetExpert(expert_id=view.expert_id)),
            "run": runs([view], datasets)[0],
            "estimate": estimate_words(view.estimate) if view.estimate else None,
        }
        return Template("trainer/run.html", context=context)


ROUTES = [FinetunePages, RunPages]
