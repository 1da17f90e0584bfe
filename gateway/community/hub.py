"""The Community hub's JSON API (`/api/community/templates…`): the registry as this install's
people see it — search it, look at a template before importing it, import it in one click,
rate, review and report it.

The registry is the one at `TEMPLATE_REGISTRY_URL`, or this install's own when that is unset,
so the hub works out of the box. When the registry cannot be reached, search answers the
listings cached here with `offline: true`, and imported copies keep working. A template
holding unusual patterns (instructions to ignore earlier ones, hidden Unicode, URLs, long
base64 runs, HTML, tool-call syntax) comes with a warning naming each, to read before
importing; an import verifies the publisher's signature and refuses a tampered template
with a sentence.
"""

from __future__ import annotations

import msgspec
from litestar import Response, get, post
from litestar.params import Parameter

from contracts.base import Accepted
from contracts.community import (
    CommunitySearch,
    CommunityTemplateView,
    GetCommunityTemplate,
    GetTemplate,
    ImportTemplate,
    Listing,
    RateTemplate,
    RegistryKey,
    ReportReason,
    ReportTemplate,
    ReviewTemplate,
    ReviewText,
    Semver,
    Sort,
    Stars,
    TemplateView,
)
from gateway.backend import Backend
from gateway.http.errors import error_responses

REMOTE_TIMEOUT_S = 30.0  # a remote registry over HTTP (an import itself is meant to take < 2 s)
VERSION = Parameter(
    query="version",
    default=None,
    description="A version (MAJOR.MINOR.PATCH); the latest if left out.",
)


class ImportBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The version to import (the latest if left out); importing a newer version of a
    template imported before updates that copy."""

    version: Semver | None = None
    registry_key: RegistryKey = ""


class RatingBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    stars: Stars
    registry_key: RegistryKey = ""


class ReviewBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    text: ReviewText
    registry_key: RegistryKey = ""


class ReportBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: ReportReason
    registry_key: RegistryKey = ""


@get(
    "/api/community/templates",
    summary="Search the registry: 20 templates a page, by relevance or a chosen order",
    description="Full text over name, description, domain, methodology, keywords and author."
    " `sort`: popular (imports), rating (a Bayesian average), newest, used (applications)."
    " `offline: true` when the registry could not be reached: the listings cached here.",
    responses=error_responses(400),
)
async def search(
    backend: Backend,
    q: str = Parameter(query="q", default="", description="Words to look for."),
    domain: str = Parameter(query="domain", default="", description="Only this domain."),
    sort: Sort = Parameter(query="sort", default="popular", description="The order."),
    page: int = Parameter(query="page", default=1, ge=1, description="From 1."),
) -> Listing:
    query = CommunitySearch(q=q, domain=domain, sort=sort, page=page)
    return await backend.ask(query, timeout=REMOTE_TIMEOUT_S)


@get(
    "/api/community/templates/{registry_id:str}",
    summary="A registry template before importing it: content, versions, reviews, warnings",
    description="`warnings` name each unusual pattern in it; `imported_*` is the copy imported"
    " here, if any (for the update's diff).",
    responses=error_responses(404),
)
async def show(
    registry_id: str, backend: Backend, version: str | None = VERSION
) -> CommunityTemplateView:
    query = GetCommunityTemplate(registry_id=registry_id, version=version)
    return await backend.ask(query, timeout=REMOTE_TIMEOUT_S)


@post(
    "/api/community/templates/{registry_id:str}/import",
    summary="Import a registry template here (its signature verified); answers the local copy",
    description="A template whose content does not match its publisher's signature is"
    " refused (409) and nothing is stored. The copy works offline.",
    status_code=201,
    responses=error_responses(400, 404, 409, 502),
)
async def import_template(
    registry_id: str, backend: Backend, data: ImportBody | None = None
) -> Response[TemplateView]:
    body = data or ImportBody()
    cmd = ImportTemplate(
        registry_id=registry_id, version=body.version, registry_key=body.registry_key
    )
    accepted = await backend.ask(cmd, timeout=REMOTE_TIMEOUT_S)
    view = await backend.ask(GetTemplate(template_id=accepted.id, after_seq=accepted.seq))
    return Response(view, status_code=201, headers={"Location": f"/api/templates/{view.id}"})


@post(
    "/api/community/templates/{registry_id:str}/rate",
    summary="Rate a template you imported, 1 to 5 stars (a later rating replaces yours)",
    status_code=200,
    responses=error_responses(400, 404, 409, 502),
)
async def rate(registry_id: str, data: RatingBody, backend: Backend) -> Accepted:
    cmd = RateTemplate(registry_id=registry_id, stars=data.stars, registry_key=data.registry_key)
    return await backend.ask(cmd, timeout=REMOTE_TIMEOUT_S)


@post(
    "/api/community/templates/{registry_id:str}/review",
    summary="Review a template you imported, at most 500 characters (one per person)",
    status_code=200,
    responses=error_responses(400, 404, 409, 502),
)
async def review(registry_id: str, data: ReviewBody, backend: Backend) -> Accepted:
    cmd = ReviewTemplate(registry_id=registry_id, text=data.text, registry_key=data.registry_key)
    return await backend.ask(cmd, timeout=REMOTE_TIMEOUT_S)


@post(
    "/api/community/templates/{registry_id:str}/report",
    summary="Report a template to the registry's moderators; answers the case's id",
    status_code=201,
    responses=error_responses(400, 404, 502),
)
async def report(registry_id: str, data: ReportBody, backend: Backend) -> Accepted:
    cmd = ReportTemplate(
        registry_id=registry_id, reason=data.reason, registry_key=data.registry_key
    )
    return await backend.ask(cmd, timeout=REMOTE_TIMEOUT_S)


ROUTES = [search, show, import_template, rate, review, report]
