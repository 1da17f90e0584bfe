"""What the registry says of an expert's adapter versions: the one a run measures, and the one
a rollback would restore."""

from __future__ import annotations

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import BASE
from contracts.registry import ActiveAdapter, GetActiveAdapter, GetAdapter, GetAudit
from runtime.rpc import ask


async def adapter_for(nc, tenant: str, expert_id: str, chosen: str | None) -> str | None:
    """The version a run measures: the active one (None asked), none (`base`), or the one
    chosen, which must be a valid version of this expert."""
    if chosen == BASE:
        return None
    try:
        if chosen is None:
            active = await ask(nc, GetActiveAdapter(tenant=tenant, expert_id=expert_id))
            return active.adapter_id
        version = await ask(nc, GetAdapter(tenant=tenant, adapter_id=chosen))
    except DomainError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise DomainError(ErrorCode.NOT_FOUND, f"version {chosen} not found") from exc
        raise
    if version.expert_id != expert_id:
        raise DomainError(ErrorCode.NOT_FOUND, f"version {chosen} is not this expert's")
    if not version.valid:
        raise DomainError(ErrorCode.CONFLICT, f"version {chosen} is invalid: it cannot answer")
    return chosen


async def active(nc, tenant: str, expert_id: str) -> str | None:
    """The version that answers for the expert now (None: the base model)."""
    return await adapter_for(nc, tenant, expert_id, None)


async def rollback_target(nc, tenant: str, expert_id: str) -> str | None:
    """The version the latest activation replaced: what a rollback would restore."""
    query = GetAudit(tenant=tenant, expert_id=expert_id, outcome="succeeded", limit=50)
    try:
        trail = await ask(nc, query)
    except DomainError:
        return None
    for entry in trail.entries:
        if entry.action in ("activate", "rollback"):
            return entry.previous_adapter_id
    return None


async def deployment(nc, tenant: str, expert_id: str) -> ActiveAdapter:
    """The version that answers now and the deployment's version number, which an activation
    sends back so that it loses to any change made since it was read."""
    return await ask(nc, GetActiveAdapter(tenant=tenant, expert_id=expert_id))


async def activated_by_benchmark(nc, tenant: str, expert_id: str, adapter_id: str) -> bool:
    """Whether the benchmark service activated `adapter_id` already: a decision delivered
    again after a crash must not undo what a person chose since."""
    query = GetAudit(
        tenant=tenant, expert_id=expert_id, action="activate", outcome="succeeded",
        adapter_id=adapter_id, limit=50,
    )  # fmt: skip
    trail = await ask(nc, query)
    return any(entry.by == "benchmark" for entry in trail.entries)
