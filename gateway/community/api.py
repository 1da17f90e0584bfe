"""A person's own templates (`/api/templates…`) and the one an expert answers with
(`/api/experts/{expert_id}/template`).

Every edit is a new immutable version: `PUT` sends the whole new content and the version it
was written against (`expected_version`, 409 when someone saved a newer one first); the
front matter's version must be greater. Publishing checks the template here first (front
matter, content, personal data, each refusal naming the line and the pattern) and then
sends it, signed with the person's key, to the registry (`TEMPLATE_REGISTRY_URL`, or this
install's own). Another person's template id answers exactly as a missing one: 404.

Applying names a template (and a version, or none to follow its latest) for an expert; from
its next answer on it shapes the system prompt in every mode, and each trace names the
version that answered. `template_id: null` removes it. The expert is looked up first, so
another person's expert is a 404 here as everywhere.
"""

from __future__ import annotations

import msgspec
from litestar import Response, delete, get, post, put

from contracts.community import (
    AppliedTemplate,
    ApplyTemplate,
    AuthorName,
    CreateTemplate,
    DeleteTemplate,
    EditTemplate,
    ForkTemplate,
    GetAppliedTemplate,
    GetTemplate,
    ListTemplates,
    Published,
    PublishTemplate,
    RegistryKey,
    Semver,
    TemplateList,
    TemplateText,
    TemplateView,
)
from contracts.expert import GetExpert
from gateway.backend import Backend
from gateway.community.routes import at_version
from gateway.http.errors import error_responses

PUBLISH_TIMEOUT_S = 30.0  # a remote registry over HTTP, after the checks here


class NewTemplate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Markdown with YAML front matter (name, description, domain, methodology, keywords,
    version)."""

    content: TemplateText


class TemplateEdit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole new content, and the latest version the edit was written against."""

    content: TemplateText
    expected_version: Semver


class PublishOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The name shown as the author ("" publishes anonymously), and an API key of another
    registry's instance ("" uses the account's or TEMPLATE_REGISTRY_API_KEY)."""

    author: AuthorName = ""
    registry_key: RegistryKey = ""


class ApplyBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The template the expert answers with (null: none), at `version` (null: its latest,
    whatever it becomes)."""

    template_id: str | None = None
    version: Semver | None = None


def located(view: TemplateView, status_code: int = 200) -> Response[TemplateView]:
    return Response(
        view, status_code=status_code, headers={"Location": f"/api/templates/{view.id}"}
    )


@get("/api/templates", summary="Your templates (written, forked, imported), newest change first")
async def list_templates(backend: Backend) -> TemplateList:
    return await backend.ask(ListTemplates())


@post(
    "/api/templates",
    summary="Write a template",
    description="Its front matter must parse (name and version at least); a refusal names the"
    " line. Answers 201 with the template (`id`, `name`, `version`, `description`, `domain`,"
    " `methodology`, `keywords`, `content`, ...) and a Location header.",
    status_code=201,
    responses=error_responses(400),
)
async def create(data: NewTemplate, backend: Backend) -> Response[TemplateView]:
    accepted = await backend.send(CreateTemplate(content=data.content))
    view = await backend.ask(GetTemplate(template_id=accepted.id, after_seq=accepted.seq))
    return located(view, 201)


get_one = at_version(
    get,
    "/api/templates/{template_id:str}",
    GetTemplate,
    name="get_one",
    summary="One template at a version (its latest by default), with its history and warnings",
    responses=error_responses(404),
)


@put(
    "/api/templates/{template_id:str}",
    summary="Save a new version of a template",
    description="The front matter's version must be greater than the latest; a stale"
    " `expected_version` (someone saved first) is a 409 and nothing changes.",
    responses=error_responses(400, 404, 409),
)
async def edit(template_id: str, data: TemplateEdit, backend: Backend) -> TemplateView:
    cmd = EditTemplate(
        template_id=template_id, content=data.content, expected_version=data.expected_version
    )
    return await backend.send(cmd, then=GetTemplate(template_id=template_id))


@delete(
    "/api/templates/{template_id:str}",
    summary="Delete a template and its versions",
    description="An expert it was applied to answers without a template from then on.",
    status_code=204,
    responses=error_responses(404),
)
async def remove(template_id: str, backend: Backend) -> None:
    await backend.send(DeleteTemplate(template_id=template_id))


@post(
    "/api/templates/{template_id:str}/fork",
    summary="Start a new template as a copy of this one (it keeps where it came from)",
    status_code=201,
    responses=error_responses(404),
)
async def fork(template_id: str, backend: Backend) -> Response[TemplateView]:
    accepted = await backend.send(ForkTemplate(template_id=template_id))
    view = await backend.ask(GetTemplate(template_id=accepted.id, after_seq=accepted.seq))
    return located(view, 201)


@post(
    "/api/templates/{template_id:str}/publish",
    summary="Publish the template's latest version to the registry, signed with your key",
    description="Answers `{registry_id, version, sha256, registry_url}`. Checked here before anything leaves the machine: the front matter, the"
    " content, and personal data (e-mail addresses, phone numbers, IBANs, card numbers, API"
    " keys, national ids), each refusal naming the line and the pattern (400). Published"
    " before: published again as its new version.",
    status_code=200,
    responses=error_responses(400, 404, 409, 502),
)
async def publish(
    template_id: str, backend: Backend, data: PublishOptions | None = None
) -> Published:
    body = data or PublishOptions()
    cmd = PublishTemplate(
        template_id=template_id, author=body.author, registry_key=body.registry_key
    )
    return await backend.ask(cmd, timeout=PUBLISH_TIMEOUT_S)


@get(
    "/api/experts/{expert_id:str}/template",
    summary="The template an expert answers with (`template_id` null: none)",
    responses=error_responses(404),
)
async def applied(expert_id: str, backend: Backend) -> AppliedTemplate:
    await backend.ask(GetExpert(expert_id=expert_id))  # 404 for an expert not yours
    return await backend.ask(GetAppliedTemplate(expert_id=expert_id))


@post(
    "/api/experts/{expert_id:str}/template",
    summary="Apply a template to an expert (`template_id` null removes it)",
    description="From the expert's next answer on, the template shapes its system prompt in"
    " every mode, and each trace names the template version that answered. Without"
    " `version` the expert follows the template's latest version.",
    status_code=200,
    responses=error_responses(400, 404),
)
async def apply(expert_id: str, data: ApplyBody, backend: Backend) -> AppliedTemplate:
    await backend.ask(GetExpert(expert_id=expert_id))  # 404 for an expert not yours
    cmd = ApplyTemplate(expert_id=expert_id, template_id=data.template_id, version=data.version)
    return await backend.send(cmd, then=GetAppliedTemplate(expert_id=expert_id))


ROUTES = [list_templates, create, get_one, edit, remove, fork, publish, applied, apply]
