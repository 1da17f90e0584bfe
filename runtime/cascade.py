"""An expert deleted, seen from a service that keeps work of it: what is still going is
cancelled, then the expert's line is erased, once.

Several services react to `ExpertDeleted` this same way (the benchmark's runs, the dataset's
builds); the steps, and what makes a redelivery append nothing, live here once: the event ids
derive from the ExpertDeleted's, the cancel is decided on each piece of work's own state, and
the erasure on an aggregate that only knows whether the line was already erased."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import TextClause

from runtime.aggregate import AggregateType
from runtime.eventstore import RecordedEvent, derived_id
from runtime.service import ServiceHost


def erased_flag(context: str, name: str, erased: type) -> AggregateType[bool]:
    """The expert's line seen only as "was it erased?" (by an `erased` event): enough to
    decide the erasure once."""
    return AggregateType(
        context, name, False, lambda done, event: done or isinstance(event, erased)
    )


async def cancel_then_erase(
    host: ServiceHost,
    rec: RecordedEvent,
    *,
    going: TextClause,
    work: AggregateType,
    cancel: Callable[[object, str], object | None],
    line: AggregateType[bool],
    erasure: Callable[[str], object],
    races: int,
) -> None:
    """`going` selects the ids of the expert's work still going (`:t` the tenant, `:e` the
    expert); each is cancelled on `work` by `cancel(state, id)` (None: nothing to cancel),
    then `erasure(expert_id)` is appended on `line` unless it was already."""
    tenant, expert_id = rec.tenant, rec.event.expert_id
    await host.caught_up_with_log()
    async with host.engine.connect() as conn:
        ids = list(await conn.scalars(going, {"t": tenant, "e": expert_id}))
    for work_id in ids:
        await work.execute(
            host.store,
            tenant,
            work_id,
            lambda s, w=work_id: cancel(s, w),
            event_id=derived_id(rec.event_id, "cancel", work_id),
            correlation_id=rec.correlation_id,
            races=races,
        )
    await line.execute(
        host.store,
        tenant,
        expert_id,
        lambda erased: None if erased else erasure(expert_id),
        event_id=derived_id(rec.event_id, "erased"),
        correlation_id=rec.correlation_id,
        races=races,
    )
