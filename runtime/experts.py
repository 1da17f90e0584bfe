"""An expert that must exist: every context that acts for one asks the expert service first
(its persona is the cheapest question), so a command for a deleted or unknown expert is a
404 naming it."""

from __future__ import annotations

from contracts.answers import GetPersona, PersonaView
from contracts.base import DomainError, ErrorCode
from runtime.rpc import ask, not_found


async def require_expert(nc, tenant: str, expert_id: str) -> PersonaView:
    try:
        return await ask(nc, GetPersona(tenant=tenant, expert_id=expert_id))
    except DomainError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise not_found(f"expert {expert_id}") from exc
        raise


async def expert_exists(nc, tenant: str, expert_id: str) -> bool:
    """Whether the expert is there (not deleted); any other failure is raised."""
    try:
        await require_expert(nc, tenant, expert_id)
    except DomainError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            return False
        raise
    return True
