"""The registry's public API (`/v1/templates…`, FR-CT-01…05): what any Simtune, or anyone,
speaks to a registry with — this install's own, when others point TEMPLATE_REGISTRY_URL at
it.

Reading (search, one template, its versions, a download to import) is open to anyone: no API
key needed, but a request without one counts against its address's hourly limit
(`anonymous.limit_anonymous`: 429 with Retry-After past it). A request with an API key of
this instance acts for its person, uncounted: a download is then credited to them, and only
people who imported a template may rate or review it. Writing (publish, a new version,
unpublish, rate, review, report) needs such a key, as every route not marked public does
(401 without one).

A publication carries its publisher's Ed25519 signature over (registry id, version,
sha256 of the content) and the public key; the registry verifies it before accepting.
Errors come in OpenAI's shape, as on every `/v1` route, with `Retry-After` kept.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, Router, delete, get, post, put
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec

from contracts.base import DomainError
from contracts.community import (
    AuthorName,
    Listing,
    PublicKeyText,
    Published,
    PublishedVersions,
    RegistryDownload,
    RegistryGet,
    RegistryPublish,
    RegistryPublishVersion,
    RegistryRate,
    RegistryReport,
    RegistryReview,
    RegistrySearch,
    RegistryUnpublish,
    RegistryVersions,
    ReportReason,
    ReviewText,
    Semver,
    Signature,
    Stars,
    TemplateText,
)
from contracts.rules import Sha256
from gateway.backend import Backend
from gateway.community.anonymous import limit_anonymous
from gateway.community.routes import SEARCH, about_template, at_version
from gateway.http.errors import (
    DESCRIPTIONS,
    OpenAIError,
    OpenAIErrorDetail,
    code_and_detail,
    with_reference,
)
from runtime.logs import get_logger

log = get_logger(__name__)

PUBLIC = {"public": True}
TAGS = ["registry"]
TYPES = {401: "authentication_error", 429: "rate_limit_error"}


def registry_errors(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the errors a registry route answers (OpenAI's shape): its own,
    and those of any request (unreadable, over a limit, a service not answering)."""
    return {
        status: ResponseSpec(
            data_container=OpenAIError, description=DESCRIPTIONS.get(status, "Error")
        )
        for status in sorted({*statuses, 400, 429, 503})
    }


WRITE_ERRORS = (401, 403, 404, 409)


class NewVersion(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A newer version of a template you published, signed by the same key: content, version
    (the front matter's), sha256 of the content, and the Ed25519 signature with its public
    key."""

    content: TemplateText
    version: Semver
    sha256: Sha256
    signature: Signature
    public_key: PublicKeyText
    author: AuthorName = ""


class Publication(NewVersion, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new template: as a new version, with its id (chosen by the publisher)."""

    registry_id: str


class TemplateRating(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """1 to 5 stars."""

    rating: Stars


class TemplateReview(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A rating (1 to 5 stars) with a comment of at most 500 characters."""

    rating: Stars
    comment: ReviewText


class TemplateReport(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Why the moderators should look at it."""

    reason: ReportReason


@get(
    "/",
    summary="Search the published templates, 20 a page",
    description="Full text over name, description, domain, methodology, keywords and author,"
    " ranked; `domain`, `methodology` and `author` keep only templates with exactly that"
    " value (case aside). `sort`: popular (imports), rating (a Bayesian average), newest,"
    " used. Each item: id, name, description, domain, methodology, keywords, version,"
    " author, updated_at, download_count, avg_rating, review_count. Hidden and unpublished"
    " templates are left out. No API key needed (limited per address).",
    dependencies=SEARCH,
    opt=PUBLIC,
    guards=[limit_anonymous],
    responses=registry_errors(),
)
async def search(backend: Backend, search: dict[str, Any]) -> Listing:
    return await backend.ask(RegistrySearch(**search))


get_one = at_version(
    get,
    "/{registry_id:str}",
    RegistryGet,
    name="get_one",
    summary="One published template at a version (its latest by default)",
    description="`id, name, description, domain, methodology, keywords, content, author,"
    " version, published_at, updated_at, download_count, avg_rating, review_count`, and"
    " what an importer verifies (`sha256`, `signature`, `public_key`), its versions and"
    " reviews. No API key needed (limited per address).",
    opt=PUBLIC,
    guards=[limit_anonymous],
    responses=registry_errors(404),
)


@get(
    "/{registry_id:str}/versions",
    summary="Every published version of a template, oldest first",
    opt=PUBLIC,
    guards=[limit_anonymous],
    responses=registry_errors(404),
)
async def versions(registry_id: str, backend: Backend) -> PublishedVersions:
    return await backend.ask(RegistryVersions(registry_id=registry_id))


download = at_version(
    get,
    "/{registry_id:str}/download",
    RegistryDownload,
    name="download",
    summary="A version to import (its latest by default), counted as a download",
    description="What an importer verifies before storing it: content, sha256, signature and"
    " public key. With an API key the download is credited to its person (who may then rate"
    " and review the template).",
    opt=PUBLIC,
    guards=[limit_anonymous],
    responses=registry_errors(404),
)


@post(
    "/",
    summary="Publish a template (API key needed)",
    description="The signature must verify over `simtune-template-v1`, the id, the version and"
    " the content's sha256 with `public_key`; the version must be the front matter's, and the"
    " content must pass the checks (no personal data). An id already taken is a 409.",
    status_code=201,
    responses=registry_errors(*WRITE_ERRORS),
)
async def publish(data: Publication, backend: Backend) -> Response[Published]:
    cmd = RegistryPublish(**msgspec.structs.asdict(data))
    published = await backend.ask(cmd)
    return Response(
        published,
        status_code=201,
        headers={"Location": f"/v1/templates/{published.registry_id}"},
    )


@put(
    "/{registry_id:str}",
    summary="Publish a newer version of your template (API key needed)",
    description="Signed by the same key as before; its version must be greater than the"
    " latest. Every version stays as it was published.",
    responses=registry_errors(*WRITE_ERRORS),
)
async def publish_version(registry_id: str, data: NewVersion, backend: Backend) -> Published:
    cmd = RegistryPublishVersion(registry_id=registry_id, **msgspec.structs.asdict(data))
    return await backend.ask(cmd)


@delete(
    "/{registry_id:str}",
    summary="Unpublish your template (API key needed)",
    description="It leaves search and new imports; copies people imported keep working.",
    status_code=204,
    responses=registry_errors(*WRITE_ERRORS),
)
async def unpublish(registry_id: str, backend: Backend) -> None:
    await backend.ask(RegistryUnpublish(registry_id=registry_id))


rate = about_template(
    "/{registry_id:str}/rate",
    TemplateRating,
    RegistryRate,
    name="rate",
    summary="Rate a template you imported, `{rating}` 1 to 5 (API key needed; a later"
    " rating replaces yours)",
    status_code=200,
    responses=registry_errors(*WRITE_ERRORS),
)
review = about_template(
    "/{registry_id:str}/reviews",
    TemplateReview,
    RegistryReview,
    name="review",
    summary="Review a template you imported: `{rating, comment}`, the comment at most 500"
    " characters (API key needed; one per person, a later one replaces it)",
    status_code=200,
    responses=registry_errors(*WRITE_ERRORS),
)
report = about_template(
    "/{registry_id:str}/report",
    TemplateReport,
    RegistryReport,
    name="report",
    summary="Report a template to this registry's moderators (API key needed); answers the"
    " case's id",
    status_code=201,
    responses=registry_errors(*WRITE_ERRORS),
)


def registry_error(request: Request, exc: Exception) -> Response[Any]:
    """Every failure of a registry route in OpenAI's shape, as on every `/v1` route, keeping
    the headers it carries (`Retry-After` on a 429)."""
    status, code, detail = code_and_detail(exc)
    if status >= 500:
        detail = with_reference(detail)
    if status == 500:
        log.error("http.failed", path=request.url.path, error=code, exc_info=exc)
    kind = TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    body = OpenAIError(error=OpenAIErrorDetail(message=detail, type=kind, param=None, code=code))
    headers = getattr(exc, "headers", None) or {}
    return Response(body, status_code=status, headers=headers)


ROUTES = [
    Router(
        path="/v1/templates",
        route_handlers=[
            search,
            publish,
            get_one,
            versions,
            download,
            publish_version,
            unpublish,
            rate,
            review,
            report,
        ],
        tags=TAGS,
        # every type the app maps too, or the app's more specific handler would win
        exception_handlers={
            DomainError: registry_error,
            HTTPException: registry_error,
            Exception: registry_error,
        },
    )
]
