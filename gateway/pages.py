"""Server-rendered pages (Jinja + htmx) for people, not programs.

Every form works without JavaScript (a plain POST answered with a redirect); with htmx
the same endpoints answer HTML fragments instead. These routes stay out of `/schema`.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template

from contracts.base import DomainError
from contracts.expert import Profile
from gateway.backend import Backend
from gateway.health import problems
from gateway.search import clean_query
from gateway.uploads import receive_uploads

SEARCH_K = 5


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


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def expert_page(
    backend: Backend,
    expert_id: str,
    *,
    q: str | None = None,
    upload_error: str | None = None,
    after: str | None = None,
) -> dict:
    expert = await backend.get_expert(expert_id)
    results = None
    if q and q.strip():
        results = (await backend.search(expert_id, clean_query(q), SEARCH_K)).results
    documents, next_page = await backend.documents_page(expert_id, after=after)
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


class Pages(Controller):
    include_in_schema = False

    @get("/")
    async def index(self, backend: Backend) -> Template:
        context = {"experts": await backend.list_experts(), "problems": await problems(backend)}
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
        data: ExpertForm = Body(media_type=RequestEncodingType.URL_ENCODED),
    ) -> Response:
        try:
            expert = await backend.create_expert(data.profile())
        except DomainError as exc:
            if exc.status >= 500:
                raise
            context = {
                "experts": await backend.list_experts(),
                "error": exc.detail,
                "form": data,
                "problems": await problems(backend),
            }
            return Template("index.html", context=context, status_code=exc.status)
        return Redirect(f"/experts/{expert.id}", status_code=303)

    @post("/ui/experts/{expert_id:str}/delete")
    async def delete_expert(self, request: Request, expert_id: str, backend: Backend) -> Response:
        await backend.delete_expert(expert_id)
        if is_htmx(request):
            return Response(None, status_code=204, headers={"HX-Redirect": "/"})
        return Redirect("/", status_code=303)

    @post("/ui/experts/{expert_id:str}/documents", request_max_body_size=None)
    async def upload(self, request: Request, expert_id: str, backend: Backend) -> Response:
        try:
            uploaded = await receive_uploads(request, backend, expert_id)
        except DomainError as exc:
            if exc.status == 404 or exc.status >= 500:
                raise
            if is_htmx(request):
                context = {"detail": exc.detail, "kind": "error"}
                return Template("partials/alert.html", context=context, status_code=exc.status)
            context = await expert_page(backend, expert_id, upload_error=exc.detail)
            return Template("expert.html", context=context, status_code=exc.status)
        if is_htmx(request):
            return Template("partials/upload_result.html", context={"uploaded": uploaded})
        return Redirect(f"/experts/{expert_id}", status_code=303)

    @get("/ui/experts/{expert_id:str}/documents")
    async def documents(self, expert_id: str, backend: Backend) -> Template:
        return await documents_template(backend, expert_id)

    @post("/ui/documents/{document_id:str}/delete")
    async def delete_document(
        self, request: Request, document_id: str, backend: Backend
    ) -> Response:
        doc = await backend.delete_document(document_id)
        if not is_htmx(request):
            return Redirect(f"/experts/{doc.expert_id}", status_code=303)
        return await documents_template(backend, doc.expert_id)

    @get("/ui/experts/{expert_id:str}/search")
    async def search(self, expert_id: str, backend: Backend, q: str = "") -> Template:
        hits = (await backend.search(expert_id, clean_query(q), SEARCH_K)).results
        return Template("partials/search_results.html", context={"results": hits, "q": q})


async def documents_template(backend: Backend, expert_id: str) -> Template:
    context = {
        "expert": await backend.get_expert(expert_id),
        "documents": await backend.list_documents(expert_id),
    }
    return Template("partials/documents.html", context=context)
