"""The ingest context's aggregate type, the Document (`domain`), how a document's id is made,
and the one read of another context's log that its decisions need (is the expert live?)."""

from __future__ import annotations

from collections.abc import Callable

from contracts import expert
from contracts.ingest import AGGREGATE, CONTEXT
from runtime.aggregate import AggregateType, Outcome
from runtime.eventstore import EventStore, RecordedEvent, derived_id
from services.ingest import domain

DOCUMENT = AggregateType(CONTEXT, AGGREGATE, domain.INITIAL, domain.evolve)


def document_id_for(tenant: str, expert_id: str, sha256: str) -> str:
    return derived_id("document", tenant, expert_id, sha256)


async def expert_is_live(store: EventStore, tenant: str, expert_id: str) -> bool:
    """From the expert's own log (the truth), not the expert service's eventually
    consistent view: an upload racing the expert's deletion cannot slip through a stale read."""
    events, _ = await store.load(expert.CONTEXT, tenant, expert.AGGREGATE, expert_id)
    return domain.expert_is_live(rec.event for rec in events)


async def decide_in_reaction(
    store: EventStore,
    rec: RecordedEvent,
    document_id: str,
    decide: Callable[[domain.DocumentState], object | None],
    step: str,
) -> Outcome[domain.DocumentState]:
    """Append what `decide` makes of a document in reaction to `rec`, once however often the
    reaction runs: the event's id derives from `rec`'s and `step`."""
    return await DOCUMENT.execute(
        store,
        rec.tenant,
        document_id,
        decide,
        event_id=derived_id(rec.event_id, step),
        correlation_id=rec.correlation_id,
    )
