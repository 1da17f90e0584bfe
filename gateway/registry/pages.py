"""An expert's adapter versions (`/experts/{id}/registry`): every version with the active one
marked, and the base model as a choice too; Activate, Roll back (to the version before, or
to a chosen one), Tag, Delete, Verify, Export and Import; two versions side by side, each
with its latest benchmark score (`/registry/compare?a=&b=`); the audit trail with its
filters (`/registry/audit`).

Activate and Roll back send the deployment version the page was rendered with: a page that
has gone stale (someone else activated meanwhile) is refused and says so, instead of undoing
their change. Every form works without JavaScript (a POST answered with a redirect, or the
page with the error); with htmx the same endpoints answer the versions panel, the error (in
plain words) beside the control it is about.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import ListBenchmarks
from contracts.expert import GetExpert
from contracts.registry import (
    BASE,
    ActivateAdapter,
    DeleteAdapter,
    GetActiveAdapter,
    GetAdapter,
    ListAdapters,
    RollbackAdapter,
    VerifyAdapter,
)
from gateway.backend import Backend
from gateway.benchmark.runs import list_benchmarks
from gateway.dataset.datasets import list_datasets
from gateway.http.pages import FORM, is_htmx
from gateway.registry.adapters import ARCHIVE_TIMEOUT_S, delete_adapter
from gateway.registry.forms import (
    ACTION_NAMES,
    OUTCOME_NAMES,
    SUGGESTED_TAGS,
    ActivateForm,
    AuditFilter,
    RollbackForm,
    TagForm,
)
from gateway.registry.imports import receive_adapter
from gateway.registry.views import (
    ACTIONS,
    BASE_LABEL,
    NO_SCORE,
    OUTCOMES,
    Entry,
    comparison,
    latest_score,
    versions,
)

STALE = (
    "Someone changed which version is active since you loaded this page — reload it to see"
    " what is active now, then try again."
)
Action = Callable[[], Awaitable[tuple[int, str]]]  # does it: (stream seq, what was done)


async def panel_context(backend: Backend, expert_id: str, after_seq: int = 0, **more: Any):
    """What `registry/panel.html` shows: the versions, the base model row, the forms."""
    expert, listed, datasets = await asyncio.gather(
        backend.ask(GetExpert(expert_id=expert_id)),
        backend.ask(ListAdapters(expert_id=expert_id, after_seq=after_seq)),
        list_datasets(backend, expert_id),
    )
    return {
        "expert": expert,
        "versions": versions(listed.adapters, datasets),
        "deployment": listed,
        "base_active": listed.active_adapter_id is None,
        "base_label": BASE_LABEL,
        "suggested_tags": SUGGESTED_TAGS,
        "max_adapter_bytes": backend.settings.max_adapter_bytes,
        "notice": None,
        "error": None,
        "error_for": None,
        **more,
    }


async def panel(request: Request, backend: Backend, expert_id: str, status: int = 200, **more):
    """The panel (htmx) or the whole page."""
    context = await panel_context(backend, expert_id, **more)
    name = "registry/panel.html" if is_htmx(request) else "registry/page.html"
    return Template(name, context=context, status_code=status)


async def act(
    request: Request, backend: Backend, expert_id: str, action: Action, about: str
) -> Response:
    """Run a form's action; the panel with what was done, or with why not beside `about`
    (the control's id: an adapter id, `base`, `rollback` or `import`)."""
    try:
        seq, notice = await action()
    except DomainError as exc:
        if exc.status >= 500:
            raise
        return await panel(
            request, backend, expert_id, exc.status, error=exc.detail, error_for=about
        )
    if not is_htmx(request):
        if seq:  # the page it leads to shows what was done: its view has caught up first
            await backend.ask(GetActiveAdapter(expert_id=expert_id, after_seq=seq))
        return Redirect(f"/experts/{expert_id}/registry", status_code=303)
    return await panel(request, backend, expert_id, after_seq=seq, notice=notice)


async def act_on(request: Request, backend: Backend, adapter_id: str, action: Action) -> Response:
    """`act` on one version (404 if there is none): its expert's panel, `about` the version."""
    view = await backend.ask(GetAdapter(adapter_id=adapter_id))
    return await act(request, backend, view.expert_id, action, adapter_id)


async def stale_or(backend: Backend, expert_id: str, exc: DomainError, seen: int | None):
    """A 409 because the deployment moved on since the page was loaded says so; any other
    refusal keeps the registry's own sentence."""
    if exc.code == ErrorCode.CONFLICT and seen is not None:
        now = (await backend.ask(ListAdapters(expert_id=expert_id))).version
        if now != seen:
            return DomainError(ErrorCode.CONFLICT, STALE)
    return exc


async def move(
    request: Request,
    backend: Backend,
    cmd: ActivateAdapter | RollbackAdapter,
    said: str,
    about: str,
) -> Response:
    """Activate or roll back: the panel saying which version is active now (`said` with its
    name), or why not beside `about`; a stale page is told so (`stale_or`)."""
    expert_id = cmd.expert_id

    async def run() -> tuple[int, str]:
        try:
            active = await backend.send(cmd, then=GetActiveAdapter(expert_id=expert_id))
        except DomainError as exc:
            raise await stale_or(backend, expert_id, exc, cmd.expected_version) from exc
        return 0, said.format(active.adapter_id or BASE_LABEL)

    return await act(request, backend, expert_id, run, about)


class VersionPages(Controller):
    include_in_schema = False

    @get("/experts/{expert_id:str}/registry")
    async def page(self, expert_id: str, backend: Backend) -> Template:
        context = await panel_context(backend, expert_id)
        return Template("registry/page.html", context=context)

    @post("/ui/experts/{expert_id:str}/registry/activate")
    async def activate(
        self, request: Request, expert_id: str, backend: Backend, data: ActivateForm = FORM
    ) -> Response:
        cmd = data.command(expert_id, backend.actor)
        said = "{} is active: the next answer uses it."
        return await move(request, backend, cmd, said, cmd.adapter_id or BASE)

    @post("/ui/experts/{expert_id:str}/registry/rollback")
    async def rollback(
        self, request: Request, expert_id: str, backend: Backend, data: RollbackForm = FORM
    ) -> Response:
        cmd = data.command(expert_id, backend.actor)
        said = "Rolled back: {} is active again."
        return await move(request, backend, cmd, said, cmd.to_adapter_id or "rollback")

    @post("/ui/registry/{adapter_id:str}/tag")
    async def tag(
        self, request: Request, adapter_id: str, backend: Backend, data: TagForm = FORM
    ) -> Response:
        async def run() -> tuple[int, str]:
            then = GetAdapter(adapter_id=adapter_id)
            tagged = await backend.send(data.command(adapter_id, backend.actor), then=then)
            return 0, f"{adapter_id} is tagged {', '.join(tagged.tags) or 'with nothing'} now."

        return await act_on(request, backend, adapter_id, run)

    @post("/ui/registry/{adapter_id:str}/delete")
    async def delete(self, request: Request, adapter_id: str, backend: Backend) -> Response:
        async def run() -> tuple[int, str]:
            await delete_adapter(backend, DeleteAdapter(adapter_id=adapter_id, by=backend.actor))
            return 0, f"{adapter_id} is deleted, with its files."

        return await act_on(request, backend, adapter_id, run)

    @post("/ui/registry/{adapter_id:str}/verify")
    async def verify(self, request: Request, adapter_id: str, backend: Backend) -> Response:
        async def run() -> tuple[int, str]:
            cmd = VerifyAdapter(adapter_id=adapter_id, by=backend.actor)
            checked = await backend.send(cmd, timeout=ARCHIVE_TIMEOUT_S)
            if checked.valid:
                return 0, f"{adapter_id}: every file is intact."
            raise DomainError(
                ErrorCode.CONFLICT, f"{adapter_id} is damaged: {'; '.join(checked.problems)}"
            )

        return await act_on(request, backend, adapter_id, run)

    @post("/ui/experts/{expert_id:str}/registry/import", request_max_body_size=None)
    async def import_archive(self, request: Request, expert_id: str, backend: Backend) -> Response:
        async def run() -> tuple[int, str]:
            _, imported = await receive_adapter(
                request, backend, by=backend.actor, expert_id=expert_id
            )
            if imported.duplicate:
                return imported.seq, f"These files already are version {imported.adapter_id}."
            state = "" if imported.valid else " It is marked invalid: see its problems below."
            return imported.seq, f"Imported as {imported.adapter_id}.{state}"

        return await act(request, backend, expert_id, run, "import")

    @get("/experts/{expert_id:str}/registry/compare")
    async def compare(self, expert_id: str, backend: Backend, a: str = "", b: str = "") -> Template:
        context = await panel_context(backend, expert_id)
        by_id = {v.id: v for v in context["versions"]}
        error = None
        if not (a and b) or a == b:
            error = "Pick two different versions to compare."
        elif a not in by_id or b not in by_id:
            error = "One of those versions is not this expert's (it may have been deleted)."
        if error:
            context |= {"error": error, "error_for": "compare"}
            return Template("registry/page.html", context=context, status_code=400)
        benchmarks = await asyncio.gather(
            *(list_benchmarks(backend, ListBenchmarks(expert_id=expert_id, adapter_id=v, limit=50))
              for v in (a, b))
        )  # fmt: skip
        context |= {
            "a": by_id[a],
            "b": by_id[b],
            "sections": comparison(by_id[a], by_id[b]),
            "scores": [latest_score(runs) for runs in benchmarks],
            "no_score": NO_SCORE,
        }
        return Template("registry/compare.html", context=context)

    @get("/experts/{expert_id:str}/registry/audit")
    async def audit(
        self,
        expert_id: str,
        backend: Backend,
        action: str = "",
        outcome: str = "",
        since: str = "",
        until: str = "",
    ) -> Template:
        expert = await backend.ask(GetExpert(expert_id=expert_id))
        filters = AuditFilter(action=action, outcome=outcome, since=since, until=until)
        entries, error, status = [], None, 200
        try:
            trail = await backend.ask(filters.query(expert_id))
            entries = [Entry(e) for e in trail.entries]  # newest first
        except DomainError as exc:
            if exc.status != 400:
                raise
            error, status = exc.detail, 400
        context = {
            "expert": expert,
            "filters": filters,
            "entries": entries,
            "error": error,
            "actions": [(a, ACTIONS[a]) for a in ACTION_NAMES],
            "outcomes": [(o, OUTCOMES[o]) for o in OUTCOME_NAMES],
            "export_query": "" if error else filters.export_query(),
        }
        return Template("registry/audit.html", context=context, status_code=status)


ROUTES = [VersionPages]
