"""The console's pages of a person's own templates (`/templates`, `/templates/{id}`):
create, edit as a new version, fork, delete, publish (each finding of a refusal with its
line and pattern), apply to an expert.

Every form works without JavaScript: a POST answered with a redirect to the template's page
saying what was done (by a fixed `done` word), or the page again with the refusal beside
the form it came from.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Template

from contracts.base import Command, DomainError, Query
from contracts.community import (
    ApplyTemplate,
    CreateTemplate,
    DeleteTemplate,
    EditTemplate,
    ForkTemplate,
    GetTemplate,
    ListTemplates,
    PublishTemplate,
)
from contracts.expert import GetExpert
from gateway.backend import Backend
from gateway.community.api import PUBLISH_TIMEOUT_S
from gateway.community.page_parts import back, done_text, experts_by_id, findings, refused, shown
from gateway.http.pages import FORM, is_htmx, when


class ContentForm(msgspec.Struct, kw_only=True):
    content: str = ""
    expected_version: str = ""


class PublishForm(msgspec.Struct, kw_only=True):
    author: str = ""


class ApplyForm(msgspec.Struct, kw_only=True):
    """`template_id` "" removes the expert's template; `version` "" follows the latest."""

    expert_id: str = ""
    template_id: str = ""
    version: str = ""


async def templates_context(backend: Backend, **more: Any) -> dict:
    listed, experts = await asyncio.gather(backend.ask(ListTemplates()), experts_by_id(backend))
    return {"templates": listed.items, "experts": experts, "when": when, "error": None,
            "content": "", **more}  # fmt: skip


async def template_context(
    backend: Backend, template_id: str, version: str | None = None, **more: Any
) -> dict:
    view, experts = await asyncio.gather(
        backend.ask(GetTemplate(template_id=template_id, version=version or None)),
        experts_by_id(backend),
    )
    return {
        "view": view,
        "body": shown(view.content),
        "experts": experts,
        "when": when,
        "error": None,
        "error_for": None,
        "draft": None,
        "findings": [],
        **more,
    }


def refusal_page(context: dict, exc: DomainError) -> Template:
    return Template("community/template.html", context=context, status_code=exc.status)


class TemplatePages(Controller):
    include_in_schema = False

    @get("/templates")
    async def templates(self, backend: Backend, done: str = "") -> Template:
        context = await templates_context(backend, notice=done_text(done))
        return Template("community/templates.html", context=context)

    @post("/ui/templates")
    async def create(self, backend: Backend, data: ContentForm = FORM) -> Response:
        try:
            created = await backend.send(CreateTemplate(content=data.content))
        except DomainError as exc:
            context = await templates_context(
                backend, error=refused(exc).detail, content=data.content
            )
            return Template("community/templates.html", context=context, status_code=exc.status)
        await backend.ask(GetTemplate(template_id=created.id, after_seq=created.seq))
        return back(f"/templates/{created.id}", "created")

    @get("/templates/{template_id:str}")
    async def template(
        self,
        template_id: str,
        backend: Backend,
        version: str = Parameter(default="", max_length=14),
        done: str = "",
    ) -> Template:
        context = await template_context(
            backend, template_id, version.strip() or None, notice=done_text(done)
        )
        return Template("community/template.html", context=context)

    async def act(
        self,
        backend: Backend,
        template_id: str,
        cmd: Command,
        done: str,
        about: str,
        check: Query | None = None,
        **more: Any,
    ) -> Response:
        """Send `cmd` (after asking `check`, which refuses an expert not the person's); back
        to the template saying `done`, or its page with the refusal beside the form `about`."""
        try:
            if check is not None:
                await backend.ask(check)
            accepted = await backend.send(cmd)
        except DomainError as exc:
            context = await template_context(
                backend, template_id, error=refused(exc).detail, error_for=about, **more
            )
            return refusal_page(context, exc)
        target = accepted.id if isinstance(cmd, ForkTemplate) else template_id
        await backend.ask(GetTemplate(template_id=target, after_seq=accepted.seq))
        return back(f"/templates/{target}", done)

    @post("/ui/templates/{template_id:str}/edit")
    async def edit(self, template_id: str, backend: Backend, data: ContentForm = FORM) -> Response:
        cmd = EditTemplate(
            template_id=template_id,
            content=data.content,
            expected_version=data.expected_version.strip(),
        )
        return await self.act(backend, template_id, cmd, "edited", "edit", draft=data.content)

    @post("/ui/templates/{template_id:str}/fork")
    async def fork(self, template_id: str, backend: Backend) -> Response:
        return await self.act(
            backend, template_id, ForkTemplate(template_id=template_id), "forked", "fork"
        )

    @post("/ui/templates/{template_id:str}/delete")
    async def delete(self, request: Request, template_id: str, backend: Backend) -> Response:
        try:
            accepted = await backend.send(DeleteTemplate(template_id=template_id))
        except DomainError as exc:
            context = await template_context(
                backend, template_id, error=refused(exc).detail, error_for="delete"
            )
            return refusal_page(context, exc)
        await backend.ask(ListTemplates(after_seq=accepted.seq))
        if is_htmx(request):  # asked to confirm first (hx-confirm): htmx goes to the list
            return Response(
                None, status_code=204, headers={"HX-Redirect": "/templates?done=deleted"}
            )
        return back("/templates", "deleted")

    @post("/ui/templates/{template_id:str}/publish")
    async def publish(
        self, template_id: str, backend: Backend, data: PublishForm = FORM
    ) -> Response:
        """Refused (personal data found, the front matter wrong, the registry unreachable):
        the page says why, each finding with its line and pattern."""
        cmd = PublishTemplate(template_id=template_id, author=data.author.strip())
        try:
            published = await backend.send(cmd, timeout=PUBLISH_TIMEOUT_S)
        except DomainError as exc:
            head, found = findings(refused(exc).detail)
            context = await template_context(
                backend, template_id, error=head, error_for="publish", findings=found
            )
            return refusal_page(context, exc)
        await backend.ask(GetTemplate(template_id=template_id, after_seq=published.seq))
        return back(f"/templates/{template_id}", "published")

    @post("/ui/templates/{template_id:str}/apply")
    async def apply(self, template_id: str, backend: Backend, data: ApplyForm = FORM) -> Response:
        expert_id = data.expert_id.strip()
        cmd = ApplyTemplate(
            expert_id=expert_id, template_id=template_id, version=data.version.strip() or None
        )
        check = GetExpert(expert_id=expert_id)  # another person's expert: refused as missing
        return await self.act(backend, template_id, cmd, "applied", "apply", check=check)
