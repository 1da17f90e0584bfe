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

from typing import Any

import msgspec
from litestar import Response, get, post

from contracts.community import (
    CommunitySearch,
    GetCommunityTemplate,
    GetTemplate,
    ImportTemplate,
    Listing,
    RateTemplate,
    RegistryKey,
    ReportTemplate,
    ReviewTemplate,
    Semver,
    TemplateView,
)
from gateway.backend import Backend
from gateway.community.registry import TemplateRating, TemplateReport, TemplateReview
from gateway.community.routes import SEARCH, about_template, at_version
from gateway.http.errors import error_responses

REMOTE_TIMEOUT_S = 30.0  # a remote registry over HTTP (an import itself is meant to take < 2 s)


class ImportBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The version to import (the latest if left out); importing a newer version of a
    template imported before updates that copy."""

    version: Semver | None = None
    registry_key: RegistryKey = ""


class RatingBody(TemplateRating, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """As the registry takes it (`{rating}`), with an API key of its instance ("" uses the
    account's or TEMPLATE_REGISTRY_API_KEY)."""

    registry_key: RegistryKey = ""


class ReviewBody(TemplateReview, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """As the registry takes it (`{rating, comment}`), with an API key of its instance."""

    registry_key: RegistryKey = ""


class ReportBody(TemplateReport, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """As the registry takes it (`{reason}`), with an API key of its instance."""

    registry_key: RegistryKey = ""


@get(
    "/api/community/templates",
    summary="Search the registry: 20 templates a page, by relevance or a chosen order",
    description="Full text over name, description, domain, methodology, keywords and author;"
    " `domain`, `methodology` and `author` keep only templates with exactly that value"
    " (case aside). `sort`: popular (imports), rating (a Bayesian average), newest, used"
    " (applications). Items are named as the registry's (`download_count`, `avg_rating`,"
    " `review_count`, ...). `offline: true` when the registry could not be reached: the"
    " listings cached here.",
    dependencies=SEARCH,
    responses=error_responses(400),
)
async def search(backend: Backend, search: dict[str, Any]) -> Listing:
    return await backend.ask(CommunitySearch(**search), timeout=REMOTE_TIMEOUT_S)


show = at_version(
    get,
    "/api/community/templates/{registry_id:str}",
    GetCommunityTemplate,
    name="show",
    timeout=REMOTE_TIMEOUT_S,
    summary="A registry template before importing it: content, versions, reviews, warnings",
    description="`template` is named as the registry's (`id, name, description, domain,"
    " methodology, keywords, content, author, version, ...`); `warnings` name each unusual"
    " pattern in it; `imported_*` is the copy imported here, if any (for the update's diff).",
    responses=error_responses(404),
)


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


rate = about_template(
    "/api/community/templates/{registry_id:str}/rate",
    RatingBody,
    RateTemplate,
    name="rate_community_template",
    timeout=REMOTE_TIMEOUT_S,
    summary="Rate a template you imported, `{rating}` 1 to 5 (a later rating replaces yours)",
    status_code=200,
    responses=error_responses(400, 404, 409, 502),
)
review = about_template(
    "/api/community/templates/{registry_id:str}/review",
    ReviewBody,
    ReviewTemplate,
    name="review_community_template",
    timeout=REMOTE_TIMEOUT_S,
    summary="Review a template you imported: `{rating, comment}`, the comment at most 500"
    " characters (one per person)",
    status_code=200,
    responses=error_responses(400, 404, 409, 502),
)
report = about_template(
    "/api/community/templates/{registry_id:str}/report",
    ReportBody,
    ReportTemplate,
    name="report_community_template",
    timeout=REMOTE_TIMEOUT_S,
    summary="Report a template to the registry's moderators; answers the case's id",
    status_code=201,
    responses=error_responses(400, 404, 502),
)


ROUTES = [search, show, import_template, rate, review, report]
