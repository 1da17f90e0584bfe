"""The console's experts: the list with its create form, an expert's page, deleting one.

Every form works without JavaScript (a plain POST answered with a redirect); with htmx
the same endpoints answer HTML fragments instead.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from contracts.base import DomainError
from contracts.expert import DeleteExpert, ExpertView, GetExpert, ListExperts, Profile
from gateway.admin.probes import problems
from gateway.backend import Backend
from gateway.expert.api import create_expert
from gateway.http.pages import FORM, is_htmx
from gateway.ingest.documents import documents_page
from gateway.knowledge.pages import search_hits


class ExpertForm(msgspec.Struct, kw_only=True):
    name: str = ""
    domain: str = ""
    description: str = ""
    goals: str = ""  # one per line

    def profile(self) -> Profile:
        goals = [line.strip() for line in self.goals.splitlines() if line.strip()]
        return Profile(
            name=self.name.strip(),
            domain=self.domain.strip(),
            description=self.description.strip(),
            goals=goals,
        )


async def experts(backend: Backend) -> list[ExpertView]:
    return (await backend.ask(ListExperts())).experts


async def expert_page(
    backend: Backend,
    expert_id: str,
    *,
    q: str | None = None,
    upload_error: str | None = None,
    after: str | None = None,
) -> dict:
    """The context of `expert.html`: the expert, a page of its documents, search results."""
    expert = await backend.ask(GetExpert(expert_id=expert_id))
    results = None
    if q and q.strip():
        results = await search_hits(backend, expert_id, q)
    documents, next_page = await documents_page(backend, expert_id, after=after)
    return {
        "expert": expert,
        "documents": documents,
        "next_page": next_page,
        "later_page": after is not None,  # not the first page: shown as is, not live
        "q": q,
        "results": results,
        "upload_error": upload_error,
        "max_upload_bytes": backend.settings.max_upload_bytes,
        "problems": await problems(backend),
    }


class ExpertPages(Controller):
    include_in_schema = False

    @get("/")
    async def index(self, backend: Backend) -> Template:
        context = {"experts": await experts(backend), "problems": await problems(backend)}
        return Template("index.html", context=context)

    @get("/experts/{expert_id:str}")
    async def expert(
        self,
        expert_id: str,
        backend: Backend,
        q: str | None = None,
        after: str | None = Parameter(default=None, max_length=200),
    ) -> Template:
        context = await expert_page(backend, expert_id, q=q, after=after)
        return Template("expert.html", context=context)

    @post("/ui/experts")
    async def create_expert(
        self,
        backend: Backend,
        data: ExpertForm = FORM,
    ) -> Response:
        try:
            expert = await create_expert(backend, data.profile())
        except DomainError as exc:
            if exc.status >= 500:
                raise
            context = {
                "experts": await experts(backend),
                "error": exc.detail,
                "form": data,
                "problems": await problems(backend),
            }
            return Template("index.html", context=context, status_code=exc.status)
        return Redirect(f"/experts/{expert.id}", status_code=303)

    @post("/ui/experts/{expert_id:str}/delete")
    async def delete_expert(self, request: Request, expert_id: str, backend: Backend) -> Response:
        await backend.send(DeleteExpert(expert_id=expert_id), then=ListExperts())
        if is_htmx(request):
            return Response(None, status_code=204, headers={"HX-Redirect": "/"})
        return Redirect("/", status_code=303)


ROUTES = [ExpertPages]
