"""Searching an expert's documents, for the API and the search box alike: the query cleaned
(whitespace collapsed; empty or too long is a 400 saying so) and the expert checked (404)."""

from __future__ import annotations

from contracts.base import DomainError, ErrorCode
from contracts.expert import GetExpert
from contracts.knowledge import MAX_QUERY, Search, SearchResults
from gateway.backend import Backend

SEARCH_TIMEOUT_S = 30.0


def clean_query(q: str) -> str:
    """A search query with its whitespace collapsed; DomainError (400) if empty or too long."""
    q = " ".join(q.split())
    if not q:
        raise DomainError(ErrorCode.INVALID, "q must not be empty: say what to look for")
    if len(q) > MAX_QUERY:
        raise DomainError(ErrorCode.INVALID, f"q must be at most {MAX_QUERY} characters")
    return q


async def search(backend: Backend, expert_id: str, q: str, k: int) -> SearchResults:
    """Passages of the expert's documents, best first."""
    q = clean_query(q)
    await backend.ask(GetExpert(expert_id=expert_id))
    return await backend.ask(Search(expert_id=expert_id, q=q, k=k), timeout=SEARCH_TIMEOUT_S)
