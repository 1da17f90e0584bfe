"""Adapter versions (`/api/lora...`): list an expert's versions, read one, see which answers
for the expert, activate one (or the base model), roll back, tag, delete, verify, export as
`.tar.gz`, import one, and read the audit trail (JSON or CSV, in `audit.py`).

Every change names who made it: the person signed in (and the API key's name, for a key). An activation or rollback may carry `expected_version`, the deployment's version
the client saw (`GET /api/lora/active`, or the list's `X-Deployment-Version`): if someone
changed the deployment since, it is refused with 409 and nothing changes. The active version
and `stable`-tagged ones cannot be deleted (409 saying why).

The fixed paths (`/active`, `/audit`, `/import`, `/rollback`) are declared before
`/{adapter_id}`, and no adapter id can be one of those words.
"""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import Parameter
from litestar.response import Stream

from contracts.base import DomainError, ErrorCode
from contracts.expert import GetExpert, ListExperts
from contracts.registry import (
    BASE,
    EXPORTS,
    ActivateAdapter,
    ActiveAdapter,
    AdapterView,
    DeleteAdapter,
    ExportAdapter,
    GetActiveAdapter,
    GetAdapter,
    ListAdapters,
    RollbackAdapter,
    TagAdapter,
    VerifyAdapter,
)
from gateway.backend import Backend
from gateway.http.downloads import export_download
from gateway.http.errors import error_responses
from gateway.http.fields import fields_from
from gateway.http.openapi import answering
from gateway.http.routes import one_message
from gateway.registry import audit
from gateway.registry.adapters import ARCHIVE_TIMEOUT_S, delete_adapter
from gateway.registry.imports import receive_adapter

VERSION_HEADER = "X-Deployment-Version"
TAGS = ["adapters"]


class ActivateBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Optional: the deployment version the client saw, and why (for the audit trail)."""

    expected_version: int | None = None
    reason: str = ""


class RollbackBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Back to the version before the current one, or to `to_adapter_id` (`base`: the base
    model)."""

    expert_id: str
    to_adapter_id: str | None = None
    expected_version: int | None = None
    reason: str = ""


class TagBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    add: list[str] = []
    remove: list[str] = []


class ImportedAdapter(AdapterView, frozen=True, kw_only=True):
    """The imported version, and what the import noticed: the same files were already a
    version of this expert (`duplicate`, answered 200), files that are not part of an
    adapter and were left out (`skipped`)."""

    duplicate: bool = False
    skipped: list[str] = []


@get(
    "/api/lora",
    summary="An expert's adapter versions, newest first (every expert's without `expert_id`)",
    description="Each version: `{id, expert_id, created_at, base_model, backend, dataset_id,"
    " run_id, metrics, tags, is_active, valid, size_bytes, source, problems, files, ...}`. With"
    " `expert_id`, the `X-Deployment-Version` header is the version to send back as"
    " `expected_version`.",
    responses=error_responses(404),
)
async def list_adapters(
    backend: Backend,
    expert_id: str | None = Parameter(default=None, description="The expert's id."),
) -> Response[list[AdapterView]]:
    if expert_id is None:
        experts = (await backend.ask(ListExperts())).experts
        lists = await asyncio.gather(*(backend.ask(ListAdapters(expert_id=e.id)) for e in experts))
        return Response([a for listed in lists for a in listed.adapters])
    await backend.ask(GetExpert(expert_id=expert_id))  # 404 for an expert that does not exist
    listed = await backend.ask(ListAdapters(expert_id=expert_id))
    return Response(listed.adapters, headers={VERSION_HEADER: str(listed.version)})


active = one_message(
    get,
    "/api/lora/active",
    GetActiveAdapter,
    name="active",
    query={"expert_id": (str, Parameter(description="The expert's id."))},
    known=GetExpert,
    summary="Which version answers for an expert (`adapter_id` null: the base model)",
    description="`version` is the deployment's version: send it back as `expected_version`.",
    responses=error_responses(400, 404),
)


@post(
    "/api/lora/import",
    summary="Import an adapter from a .tar.gz (multipart `file` and an `expert_id` field)",
    description="Answers 201 with the new version (200 when the same files already were one"
    " of this expert's). An archive over the limit is a 413; an empty one, one that is not a"
    " .tar.gz or holds no adapter a 400 saying why, as is an adapter made for another base"
    " model than the expert's (naming both). Every import gets a new id of its own, never the"
    " id its manifest names.",
    status_code=201,
    request_max_body_size=None,  # the import enforces its own limit while streaming
    responses=error_responses(400, 404, 413),
)
async def import_adapter(request: Request, backend: Backend) -> Response[ImportedAdapter]:
    _, imported = await receive_adapter(request, backend, by=backend.actor)
    view = await backend.ask(GetAdapter(adapter_id=imported.adapter_id, after_seq=imported.seq))
    body = ImportedAdapter(
        **msgspec.structs.asdict(view), duplicate=imported.duplicate, skipped=imported.skipped
    )
    return Response(
        body,
        status_code=200 if imported.duplicate else 201,
        headers={"Location": f"/api/lora/{view.id}"},
    )


rollback = one_message(
    post,
    "/api/lora/rollback",
    RollbackAdapter,
    name="rollback",
    body=RollbackBody,
    actor="by",
    then=GetActiveAdapter,
    summary="Roll an expert back to the version before, or to a chosen one (`base` too)",
    description="Answers which version is active afterwards. Nothing to roll back to, or a"
    " stale `expected_version`, is a 409; a version trained on another base model than the"
    " expert's is a 422 (`wrong_base_model`).",
    status_code=200,
    responses=error_responses(400, 404, 409, 422),
)


get_one = one_message(
    get,
    "/api/lora/{adapter_id:str}",
    GetAdapter,
    name="get_one",
    summary="One version: its metrics, config, files with their sha256, tags, validity",
    responses=error_responses(404),
)


@post(
    "/api/lora/{adapter_id:str}/activate",
    summary="Make a version the one that answers for its expert (`base` + `?expert_id=`:"
    " the base model)",
    description="Optional body `{expected_version, reason}`. Answers which version is active"
    " afterwards; the expert answers with it from its next answer. A stale `expected_version`"
    " or an invalid version is a 409; a version trained on another base model than the"
    " expert's is a 422 (`wrong_base_model`), naming both models.",
    status_code=200,
    responses=error_responses(400, 404, 409, 422),
)
async def activate(
    adapter_id: str,
    request: Request,
    backend: Backend,
    data: ActivateBody | None = None,
    expert_id: str | None = Parameter(default=None, description="Needed for `base`."),
) -> ActiveAdapter:
    body = data or ActivateBody()
    if adapter_id == BASE:
        if expert_id is None:
            raise DomainError(
                ErrorCode.INVALID, "say whose base model to activate: ?expert_id=<the expert>"
            )
        await backend.ask(GetExpert(expert_id=expert_id))
        target = None
    else:
        view = await backend.ask(GetAdapter(adapter_id=adapter_id))
        if expert_id is not None and expert_id != view.expert_id:
            raise DomainError(ErrorCode.NOT_FOUND, "that expert has no adapter with this id")
        expert_id, target = view.expert_id, adapter_id
    cmd = fields_from(
        ActivateAdapter, body, expert_id=expert_id, adapter_id=target, by=backend.actor
    )
    return await backend.send(cmd, then=GetActiveAdapter(expert_id=expert_id))


tag = one_message(
    post,
    "/api/lora/{adapter_id:str}/tag",
    TagAdapter,
    name="tag",
    body=TagBody,
    actor="by",
    then=GetAdapter,
    summary="Add and remove a version's tags (`stable` protects it from deletion)",
    status_code=200,
    responses=error_responses(400, 404),
)


verify = one_message(
    post,
    "/api/lora/{adapter_id:str}/verify",
    VerifyAdapter,
    name="verify",
    actor="by",
    timeout=ARCHIVE_TIMEOUT_S,
    summary="Hash a version's files again: `valid`, and `problems` naming what is wrong",
    status_code=200,
    responses=error_responses(404),
)


@delete(
    "/api/lora/{adapter_id:str}",
    summary="Delete a version and its files",
    description="The active version and versions tagged `stable` cannot be deleted (409).",
    status_code=204,
    responses=error_responses(404, 409),
)
async def remove(adapter_id: str, request: Request, backend: Backend) -> None:
    await delete_adapter(backend, DeleteAdapter(adapter_id=adapter_id, by=backend.actor))


@get(
    "/api/lora/{adapter_id:str}/export",
    summary="Download a version as .tar.gz: its files and manifest.json",
    responses=error_responses(404, 409),
    operation_class=answering("application/gzip"),
)
async def export(adapter_id: str, backend: Backend) -> Stream:
    ready = await backend.ask(ExportAdapter(adapter_id=adapter_id), timeout=ARCHIVE_TIMEOUT_S)
    return await export_download(backend, EXPORTS, ready, "application/gzip")


ROUTES = [
    list_adapters,
    active,
    *audit.ROUTES,
    import_adapter,
    rollback,
    get_one,
    activate,
    tag,
    verify,
    remove,
    export,
]
