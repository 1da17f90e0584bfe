"""An expert that must exist: every context that acts for one asks the expert service first
(its persona is the cheapest question), so a command for a deleted or unknown expert is a
404 naming it."""

from __future__ import annotations

from contracts.answers import GetPersona, PersonaView
from contracts.base import ErrorCode
from runtime.rpc import ServiceError, not_found, request


async def require_expert(nc, tenant: str, expert_id: str) -> PersonaView:
    try:
        return await request(
            nc, "qry.expert.persona", GetPersona(tenant=tenant, expert_id=expert_id), PersonaView
        )
    except ServiceError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise not_found(f"expert {expert_id}") from exc
        raise
