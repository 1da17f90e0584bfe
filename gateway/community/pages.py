"""The console's templates: the Community hub (`/community`: search, domain, sort, pages of
20; one-click Import; Rate, Review, Report; update badges with the newer version's diff; the
offline banner), one published template (`/community/{id}`), the person's own templates
(`/templates`, `/templates/{id}`: create, edit as a new version, fork, delete, publish, apply
to an expert), the template section of an expert's page (`/experts/{id}/template`, also
fetched into the expert's page) and the registry owner's moderation queue
(`/admin/moderation`: hide, restore, dismiss, each with a reason).

Everything a template holds was written by someone else, possibly to attack whoever reads
it: its Markdown is shown only through `markdown.render` (rendered, then sanitized), every
other field through Jinja's autoescaping, and a diff through difflib (which escapes each
line) and the same sanitizer. No page has an inline script or handler (the console's CSP
allows neither).

Before an import, a template with unusual patterns (instructions to ignore earlier ones,
hidden Unicode, URLs, ...) is shown with each one named and imports only when the person
confirms; one without any imports in one click. Every form works without JavaScript: a
POST answered with a redirect to the page that shows the outcome (which sentence, by a
fixed `done` word, never text from the request), or the page again with the refusal.
"""

from __future__ import annotations

import asyncio
import difflib
from typing import Any
from urllib.parse import urlencode

import msgspec
import nh3
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from markupsafe import Markup

from contracts.base import DomainError, ErrorCode
from contracts.community import (
    PAGE_SIZE,
    ApplyTemplate,
    CommunitySearch,
    CreateTemplate,
    DeleteTemplate,
    EditTemplate,
    ForkTemplate,
    GetAppliedTemplate,
    GetCommunityTemplate,
    GetTemplate,
    ImportTemplate,
    Listing,
    ListTemplates,
    PublishTemplate,
    RateTemplate,
    RegistryModerate,
    RegistryModerationQueue,
    ReportTemplate,
    ReviewTemplate,
)
from contracts.expert import ExpertView, GetExpert, ListExperts
from gateway.backend import Backend
from gateway.community.api import PUBLISH_TIMEOUT_S
from gateway.community.hub import REMOTE_TIMEOUT_S
from gateway.community.markdown import render, without_front_matter
from gateway.http.pages import FORM, is_htmx, when

SORTS = {
    "popular": "Most popular",
    "rating": "Highest rated",
    "newest": "Newest",
    "used": "Most used",
}
ACTIONS = {"hide": "Hide", "restore": "Restore", "dismiss": "Dismiss"}
# What a redirect's `done` word says on the page it leads to: fixed sentences only, so a
# link cannot make the console say something it did not do.
DONE = {
    "created": "Your template is saved.",
    "edited": "The new version is saved.",
    "forked": "This is your copy: change it as you like.",
    "deleted": "The template is deleted.",
    "published": "Published: anyone who uses the registry can find and import it now.",
    "applied": "The expert answers with this template from its next answer.",
    "removed": "The expert answers without a template from its next answer.",
    "imported": "Imported: the template is yours to apply, also when offline.",
    "rated": "Thank you: your rating is saved.",
    "reviewed": "Thank you: your review is saved.",
    "reported": "Reported: the registry's owner will look at it.",
    "moderated": "Done: the case is decided.",
}
DIFF_TAGS = {"table", "thead", "tbody", "colgroup", "col", "tr", "th", "td", "a", "span"}
DIFF_ATTRIBUTES = {
    "table": {"class", "id", "summary"},
    "td": {"class", "id", "nowrap"},
    "th": {"class", "colspan"},
    "span": {"class"},
    "a": {"href"},
}


def done_text(done: str) -> str | None:
    return DONE.get(done)


def shown(text: str) -> Markup:
    """A template's Markdown body (without its front matter) as sanitized HTML."""
    return render(without_front_matter(text))


def diff_table(old: str, new: str, old_label: str, new_label: str) -> Markup:
    """The lines that changed between two versions, side by side: difflib's table (each line
    escaped by difflib), then sanitized like every other piece of a template."""
    table = difflib.HtmlDiff(wrapcolumn=70).make_table(
        old.splitlines(), new.splitlines(), old_label, new_label, context=True, numlines=2
    )
    cleaned = nh3.clean(
        table,
        tags=DIFF_TAGS,
        attributes={tag: set(names) for tag, names in DIFF_ATTRIBUTES.items()},
        url_schemes=set(),
        link_rel=None,
        strip_comments=True,
    )
    return Markup(cleaned)


def findings(detail: str) -> tuple[str, list[str]]:
    """A publishing refusal as its sentence and its findings, one per line of the template
    ("… personal data — line 7: e-mail address (a***@e***.org); line 9: …")."""
    head, dash, tail = detail.partition(" — ")
    return (head, tail.split("; ")) if dash else (detail, [])


def page_link(q: str, domain: str, sort: str, page: int) -> str:
    return "/community?" + urlencode({"q": q, "domain": domain, "sort": sort, "page": page})


def refused(exc: DomainError) -> DomainError:
    """A service's refusal is shown on the page; an outage is the error page."""
    if exc.status >= 500:
        raise exc
    return exc


# ---- forms ---------------------------------------------------------------------------------


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


class ImportForm(msgspec.Struct, kw_only=True):
    version: str = ""
    confirm: str = ""  # "yes": imported although it holds unusual patterns


class RateForm(msgspec.Struct, kw_only=True):
    stars: str = ""


class ReviewForm(msgspec.Struct, kw_only=True):
    text: str = ""


class ReportForm(msgspec.Struct, kw_only=True):
    reason: str = ""


class ModerateForm(msgspec.Struct, kw_only=True):
    registry_id: str = ""
    action: str = ""
    reason: str = ""


# ---- what the pages show -------------------------------------------------------------------


async def hub_context(backend: Backend, q: str, domain: str, sort: str, page: int) -> dict:
    query = CommunitySearch(q=q, domain=domain, sort=sort, page=page)
    listing = await backend.ask(query, timeout=REMOTE_TIMEOUT_S)
    return hub_context_of(listing, q=q, domain=domain, sort=sort)


def hub_context_of(listing: Listing, *, q: str, domain: str, sort: str) -> dict:
    """What `community/hub.html` shows of a page of listings: it, the search it answers,
    and the links to the pages before and after (keeping the search)."""
    pages = max(listing.pages, 1)
    return {
        "listing": listing,
        "q": q,
        "domain": domain,
        "sort": sort,
        "sorts": SORTS,
        "page": listing.page,
        "pages": pages,
        "previous": page_link(q, domain, sort, listing.page - 1) if listing.page > 1 else None,
        "next": page_link(q, domain, sort, listing.page + 1) if listing.page < pages else None,
        "page_size": PAGE_SIZE,
        "when": when,
    }


async def published_context(backend: Backend, registry_id: str, **more: Any) -> dict:
    query = GetCommunityTemplate(registry_id=registry_id)
    view = await backend.ask(query, timeout=REMOTE_TIMEOUT_S)
    template = view.template
    diff = None
    if view.imported_content is not None and view.imported_version != template.version:
        diff = diff_table(
            view.imported_content,
            template.content,
            f"Your copy ({view.imported_version})",
            f"Version {template.version}",
        )
    return {
        "view": view,
        "template": template,
        "meta": template.front_matter,
        "body": shown(template.content),
        "diff": diff,
        "when": when,
        "error": None,
        "error_for": None,
        "confirm_import": False,
        **more,
    }


async def experts_by_id(backend: Backend) -> dict[str, ExpertView]:
    return {e.id: e for e in (await backend.ask(ListExperts())).experts}


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
        "meta": view.front_matter,
        "body": shown(view.content),
        "experts": experts,
        "when": when,
        "error": None,
        "error_for": None,
        "draft": None,
        "findings": [],
        **more,
    }


async def expert_template_context(backend: Backend, expert_id: str, **more: Any) -> dict:
    expert, applied, listed = await asyncio.gather(
        backend.ask(GetExpert(expert_id=expert_id)),
        backend.ask(GetAppliedTemplate(expert_id=expert_id)),
        backend.ask(ListTemplates()),
    )
    return {"expert": expert, "applied": applied, "templates": listed.items, "error": None,
            **more}  # fmt: skip


def back(path: str, done: str) -> Redirect:
    return Redirect(f"{path}?{urlencode({'done': done})}", status_code=303)


# ---- the Community hub and a published template --------------------------------------------


class CommunityPages(Controller):
    include_in_schema = False

    @get("/community")
    async def hub(
        self,
        backend: Backend,
        q: str = Parameter(default="", max_length=200),
        domain: str = Parameter(default="", max_length=80),
        sort: str = "popular",
        page: int = Parameter(default=1, ge=1, le=10_000),
        done: str = "",
    ) -> Template:
        sort = sort if sort in SORTS else "popular"
        context = await hub_context(backend, q.strip(), domain.strip(), sort, page)
        context["notice"] = done_text(done)
        return Template("community/hub.html", context=context)

    @get("/community/{registry_id:str}")
    async def published(self, registry_id: str, backend: Backend, done: str = "") -> Template:
        context = await published_context(backend, registry_id, notice=done_text(done))
        return Template("community/published.html", context=context)

    @post("/ui/community/{registry_id:str}/import")
    async def import_template(
        self, registry_id: str, backend: Backend, data: ImportForm = FORM
    ) -> Response:
        """One click; a template holding unusual patterns is shown first with each one
        named, and imports once the person confirms."""
        version = data.version.strip() or None
        if data.confirm != "yes":
            query = GetCommunityTemplate(registry_id=registry_id)
            view = await backend.ask(query, timeout=REMOTE_TIMEOUT_S)
            if view.warnings:
                context = await published_context(backend, registry_id, confirm_import=True)
                return Template("community/published.html", context=context)
        try:
            cmd = ImportTemplate(registry_id=registry_id, version=version)
            imported = await backend.send(cmd, timeout=REMOTE_TIMEOUT_S)
        except DomainError as exc:
            context = await published_context(
                backend, registry_id, error=refused(exc).detail, error_for="import"
            )
            return Template("community/published.html", context=context, status_code=exc.status)
        await backend.ask(GetTemplate(template_id=imported.id, after_seq=imported.seq))
        return back(f"/templates/{imported.id}", "imported")

    @post("/ui/community/{registry_id:str}/rate")
    async def rate(self, registry_id: str, backend: Backend, data: RateForm = FORM) -> Response:
        stars = int(data.stars) if data.stars.strip().isdigit() else 0
        return await self.feedback(
            backend, registry_id, RateTemplate(registry_id=registry_id, stars=stars), "rated"
        )

    @post("/ui/community/{registry_id:str}/review")
    async def review(self, registry_id: str, backend: Backend, data: ReviewForm = FORM) -> Response:
        cmd = ReviewTemplate(registry_id=registry_id, text=data.text.strip())
        return await self.feedback(backend, registry_id, cmd, "reviewed")

    @post("/ui/community/{registry_id:str}/report")
    async def report(self, registry_id: str, backend: Backend, data: ReportForm = FORM) -> Response:
        cmd = ReportTemplate(registry_id=registry_id, reason=data.reason.strip())
        return await self.feedback(backend, registry_id, cmd, "reported")

    @staticmethod
    async def feedback(backend: Backend, registry_id: str, cmd: Any, done: str) -> Response:
        """Rate, review or report: back to the template saying so, or the page with the
        refusal beside the form (`error_for`: rate, review or report)."""
        try:
            await backend.send(cmd, timeout=REMOTE_TIMEOUT_S)
        except DomainError as exc:
            about = {"rated": "rate", "reviewed": "review", "reported": "report"}[done]
            context = await published_context(
                backend, registry_id, error=refused(exc).detail, error_for=about
            )
            return Template("community/published.html", context=context, status_code=exc.status)
        return back(f"/community/{registry_id}", done)


# ---- the person's own templates --------------------------------------------------------------


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
        cmd: Any,
        done: str,
        about: str,
        check: Any = None,
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
            return Template("community/template.html", context=context, status_code=exc.status)
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
            return Template("community/template.html", context=context, status_code=exc.status)
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
            return Template("community/template.html", context=context, status_code=exc.status)
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


# ---- an expert's template -------------------------------------------------------------------


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


# ---- the registry owner's moderation queue (`/admin/…`: the owner only) --------------------


class ModerationPages(Controller):
    include_in_schema = False

    @get("/admin/moderation")
    async def queue(self, backend: Backend, done: str = "") -> Template:
        cases = (await backend.ask(RegistryModerationQueue())).cases
        context = {"cases": cases, "actions": ACTIONS, "when": when, "error": None,
                   "error_for": None, "notice": done_text(done)}  # fmt: skip
        return Template("community/moderation.html", context=context)

    @post("/ui/admin/moderation/{case_id:str}")
    async def moderate(self, case_id: str, backend: Backend, data: ModerateForm = FORM) -> Response:
        action = data.action if data.action in ACTIONS else ""
        try:
            if not action:
                raise DomainError(ErrorCode.INVALID, "Choose what to do: hide, restore or dismiss.")
            cmd = RegistryModerate(
                registry_id=data.registry_id.strip(),
                case_id=case_id,
                action=action,  # type: ignore[arg-type]
                reason=data.reason.strip(),
                by=backend.actor,
            )
            await backend.send(cmd)
        except DomainError as exc:
            cases = (await backend.ask(RegistryModerationQueue())).cases
            context = {"cases": cases, "actions": ACTIONS, "when": when,
                       "error": refused(exc).detail, "error_for": case_id, "notice": None}  # fmt: skip
            return Template("community/moderation.html", context=context, status_code=exc.status)
        return back("/admin/moderation", "moderated")


ROUTES = [CommunityPages, TemplatePages, ExpertTemplatePages, ModerationPages]
