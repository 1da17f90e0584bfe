"""The template section of an expert's page (`/experts/{id}/template`, also fetched into the
expert's page by htmx): which template the expert answers with, and the form to change it
(a template and a version, or none to follow its latest; no template removes it)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from contracts.base import DomainError
from contracts.community import ApplyTemplate, GetAppliedTemplate, ListTemplates
from contracts.expert import GetExpert
from gateway.backend import Backend
from gateway.community.page_parts import DONE, back, done_text, refused
from gateway.community.template_pages import ApplyForm
from gateway.http.pages import FORM, is_htmx


async def expert_template_context(backend: Backend, expert_id: str, **more: Any) -> dict:
    expert, applied, listed = await asyncio.gather(
        backend.ask(GetExpert(expert_id=expert_id)),
        backend.ask(GetAppliedTemplate(expert_id=expert_id)),
        backend.ask(ListTemplates()),
    )
    return {"expert": expert, "applied": applied, "templates": listed.items, "error": None,
            **more}  # fmt: skip


class ExpertTemplatePages(Controller):
    include_in_schema = False

    @get("/experts/{expert_id:str}/template")
    async def page(self, expert_id: str, backend: Backend, done: str = "") -> Template:
        context = await expert_template_context(backend, expert_id, notice=done_text(done))
        return Template("community/expert_page.html", context=context)

    @get("/ui/experts/{expert_id:str}/template")
    async def panel(self, expert_id: str, backend: Backend) -> Template:
        """The section of the expert's page (fetched by it when it loads)."""
        context = await expert_template_context(backend, expert_id, notice=None)
        return Template("community/expert_panel.html", context=context)

    @post("/ui/experts/{expert_id:str}/template")
    async def change(
        self, request: Request, expert_id: str, backend: Backend, data: ApplyForm = FORM
    ) -> Response:
        template_id = data.template_id.strip() or None
        cmd = ApplyTemplate(
            expert_id=expert_id,
            template_id=template_id,
            version=(data.version.strip() or None) if template_id else None,
        )
        done = "applied" if template_id else "removed"
        await backend.ask(GetExpert(expert_id=expert_id))  # another person's: 404
        try:
            accepted = await backend.send(cmd)
        except DomainError as exc:
            context = await expert_template_context(
                backend, expert_id, error=refused(exc).detail, notice=None
            )
            name = (
                "community/expert_panel.html" if is_htmx(request) else "community/expert_page.html"
            )
            return Template(name, context=context, status_code=exc.status)
        await backend.ask(GetAppliedTemplate(expert_id=expert_id, after_seq=accepted.seq))
        if is_htmx(request):
            context = await expert_template_context(backend, expert_id, notice=DONE[done])
            return Template("community/expert_panel.html", context=context)
        return back(f"/experts/{expert_id}/template", done)
