"""The registry owner's moderation queue (`/api/admin/moderation`, the owner only, as every
`/api/admin/…` route): each report opens a case; the owner hides the template (it leaves
search, the reason recorded), restores it, or dismisses the report."""

from __future__ import annotations

import msgspec
from litestar import get, post
from litestar.params import Parameter

from contracts.community import (
    ModerationAction,
    ModerationQueue,
    ModerationReason,
    RegistryModerate,
    RegistryModerationQueue,
)
from gateway.backend import Backend
from gateway.http.errors import error_responses


class Decision(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Hide or restore a template (a case id optional), or dismiss a report (its case id
    needed), with the reason people will see."""

    registry_id: str
    action: ModerationAction
    case_id: str | None = None
    reason: ModerationReason = ""


@get(
    "/api/admin/moderation",
    summary="The registry's moderation cases, open ones first (the owner only)",
    responses=error_responses(403),
)
async def queue(
    backend: Backend,
    open_only: bool = Parameter(
        query="open_only", default=False, description="Leave out decided cases."
    ),
) -> ModerationQueue:
    return await backend.ask(RegistryModerationQueue(open_only=open_only))


@post(
    "/api/admin/moderation",
    summary="Hide, restore, or dismiss a report (the owner only); answers the queue after",
    description="A hidden template disappears from search, with its reason recorded.",
    status_code=200,
    responses=error_responses(400, 403, 404, 409),
)
async def decide(data: Decision, backend: Backend) -> ModerationQueue:
    cmd = RegistryModerate(
        registry_id=data.registry_id,
        case_id=data.case_id,
        action=data.action,
        reason=data.reason,
        by=backend.actor,
    )
    return await backend.send(cmd, then=RegistryModerationQueue())


ROUTES = [queue, decide]
