"""The search box of an expert's page: its results as a fragment (and inline, without JS)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from contracts.knowledge import SearchHit
from gateway.backend import Backend
from gateway.knowledge.search import search

SEARCH_K = 5


async def search_hits(backend: Backend, expert_id: str, q: str) -> list[SearchHit]:
    return (await search(backend, expert_id, q, SEARCH_K)).results


class SearchPages(Controller):
    include_in_schema = False

    @get("/ui/experts/{expert_id:str}/search")
    async def search(self, expert_id: str, backend: Backend, q: str = "") -> Template:
        hits = await search_hits(backend, expert_id, q)
        return Template("partials/search_results.html", context={"results": hits, "q": q})


ROUTES = [SearchPages]
