"""The registry's aggregate types: an expert's versions, and its audit notes of refusals; and
the one fact of another context's log its decisions need, read and never written: the base
model the expert's profile names (`bases.declared`, folded from the EXPERT log)."""

from __future__ import annotations

from contracts import expert
from contracts.registry import CONTEXT, VERSIONS
from runtime.aggregate import AggregateType
from runtime.eventstore import EventStore
from services.registry import bases, domain

EXPERT_VERSIONS = AggregateType(CONTEXT, VERSIONS, domain.INITIAL, domain.evolve)
_NAMED_BASE = AggregateType(expert.CONTEXT, expert.AGGREGATE, None, bases.declared)


async def expert_base(store: EventStore, tenant: str, expert_id: str, install: str):
    """The expert's base model, from its own log (the truth, not a view that may lag)."""
    named, _ = await _NAMED_BASE.load(store, tenant, expert_id)
    return bases.ExpertBase(named=named, install=install)
