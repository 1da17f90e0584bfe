"""`GET /api/experts/{expert_id}/search`: passages of an expert's documents, best first."""

from __future__ import annotations

from litestar import get
from litestar.params import Parameter

from contracts.knowledge import MAX_K, SearchResults
from gateway.backend import Backend
from gateway.http.errors import error_responses
from gateway.knowledge.search import search as search_documents


@get(
    "/api/experts/{expert_id:str}/search",
    summary="Search an expert's documents",
    description="`page` in each result is the 1-based physical page where the passage starts.",
    responses=error_responses(400, 404),
)
async def search(
    expert_id: str,
    backend: Backend,
    q: str = Parameter(description="what to look for"),
    k: int = Parameter(default=5, ge=1, le=MAX_K, description="how many passages"),
) -> SearchResults:
    return await search_documents(backend, expert_id, q, k)


ROUTES = [search]
