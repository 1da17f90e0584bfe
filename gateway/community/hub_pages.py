"""The console's Community hub (`/community`: words, domain, methodology, author, an order,
pages of 20; one-click Import; Rate, Review, Report; update badges with the newer version's
diff; the offline banner) and one published template (`/community/{id}`).

Before an import, a template with unusual patterns (instructions to ignore earlier ones,
hidden Unicode, URLs, ...) is shown with each one named and imports only when the person
confirms; one without any imports in one click. Every form works without JavaScript: a
POST answered with a redirect to the page that shows the outcome, or the page again with
the refusal beside the form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import Parameter
from litestar.response import Template

from contracts.base import Command, DomainError
from contracts.community import (
    PAGE_SIZE,
    CommunitySearch,
    GetCommunityTemplate,
    GetTemplate,
    ImportTemplate,
    Listing,
    RateTemplate,
    ReportTemplate,
    ReviewTemplate,
)
from gateway.backend import Backend
from gateway.community.hub import REMOTE_TIMEOUT_S
from gateway.community.page_parts import back, diff_table, done_text, refused, shown
from gateway.http.pages import FORM, when

SORTS = {
    "popular": "Most popular",
    "rating": "Highest rated",
    "newest": "Newest",
    "used": "Most used",
}
FILTERS = ("q", "domain", "methodology", "author", "sort")  # what a page link keeps
ABOUT = {"rated": "rate", "reviewed": "review", "reported": "report"}  # the form refused


class ImportForm(msgspec.Struct, kw_only=True):
    version: str = ""
    confirm: str = ""  # "yes": imported although it holds unusual patterns


class RateForm(msgspec.Struct, kw_only=True):
    rating: str = ""


class ReviewForm(RateForm, kw_only=True):
    comment: str = ""


class ReportForm(msgspec.Struct, kw_only=True):
    reason: str = ""


def stars(text: str) -> int:
    """A form's rating; what is not a number is 0, which the contract refuses by name."""
    return int(text) if text.strip().isdigit() else 0


def page_link(search: dict[str, Any], page: int) -> str:
    return "/community?" + urlencode({**{f: search[f] for f in FILTERS}, "page": page})


def hub_context_of(listing: Listing, search: dict[str, Any]) -> dict:
    """What `community/hub.html` shows of a page of listings: it, the search it answers
    (`search`: q, domain, methodology, author, sort), and the links to the pages before and
    after (keeping the search)."""
    pages = max(listing.pages, 1)
    before, after = listing.page > 1, listing.page < pages
    return {
        **search,
        "listing": listing,
        "sorts": SORTS,
        "page": listing.page,
        "pages": pages,
        "previous": page_link(search, listing.page - 1) if before else None,
        "next": page_link(search, listing.page + 1) if after else None,
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
        "body": shown(template.content),
        "diff": diff,
        "when": when,
        "error": None,
        "error_for": None,
        "confirm_import": False,
        **more,
    }


class CommunityPages(Controller):
    include_in_schema = False

    @get("/community")
    async def hub(
        self,
        backend: Backend,
        q: str = Parameter(default="", max_length=200),
        domain: str = Parameter(default="", max_length=80),
        methodology: str = Parameter(default="", max_length=80),
        author: str = Parameter(default="", max_length=80),
        sort: str = "popular",
        page: int = Parameter(default=1, ge=1, le=10_000),
        done: str = "",
    ) -> Template:
        search = {"q": q.strip(), "domain": domain.strip(), "methodology": methodology.strip(),
                  "author": author.strip(), "sort": sort if sort in SORTS else "popular"}  # fmt: skip
        query = CommunitySearch(**search, page=page)
        listing = await backend.ask(query, timeout=REMOTE_TIMEOUT_S)
        context = {**hub_context_of(listing, search), "notice": done_text(done)}
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
        cmd = RateTemplate(registry_id=registry_id, rating=stars(data.rating))
        return await self.feedback(backend, registry_id, cmd, "rated")

    @post("/ui/community/{registry_id:str}/review")
    async def review(self, registry_id: str, backend: Backend, data: ReviewForm = FORM) -> Response:
        cmd = ReviewTemplate(
            registry_id=registry_id, rating=stars(data.rating), comment=data.comment.strip()
        )
        return await self.feedback(backend, registry_id, cmd, "reviewed")

    @post("/ui/community/{registry_id:str}/report")
    async def report(self, registry_id: str, backend: Backend, data: ReportForm = FORM) -> Response:
        cmd = ReportTemplate(registry_id=registry_id, reason=data.reason.strip())
        return await self.feedback(backend, registry_id, cmd, "reported")

    @staticmethod
    async def feedback(backend: Backend, registry_id: str, cmd: Command, done: str) -> Response:
        """Rate, review or report: back to the template saying so, or the page with the
        refusal beside the form (`error_for`: rate, review or report)."""
        try:
            await backend.send(cmd, timeout=REMOTE_TIMEOUT_S)
        except DomainError as exc:
            context = await published_context(
                backend, registry_id, error=refused(exc).detail, error_for=ABOUT[done]
            )
            return Template("community/published.html", context=context, status_code=exc.status)
        return back(f"/community/{registry_id}", done)
