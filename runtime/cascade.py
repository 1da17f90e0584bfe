"""An expert deleted, seen from a service that keeps work of it: what is still going is
cancelled, then the expert's line is erased, once.

Several services react to `ExpertDeleted` this same way (the benchmark's runs, the dataset's
builds); the steps, and what makes a redelivery append nothing, live here once: the event ids
derive from the ExpertDeleted's, the cancel is decided on each piece of work's own state, and
the erasure on an aggregate that only knows whether the line was already erased."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import TextClause
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.expert import ExpertDeleted
from runtime.aggregate import AggregateType
from runtime.eventstore import RecordedEvent, derived_id
from runtime.service import ServiceHost


@dataclass(frozen=True)
class ErasedFlag:
    """The expert's line seen only as "was it erased?", and the event that erases it (built
    with the expert's id alone): enough to decide the erasure once."""

    line: AggregateType[bool]
    erased: type


def erased_flag(context: str, name: str, erased: type) -> ErasedFlag:
    """The expert's line in `context`, erased by an `erased` event."""
    line = AggregateType(
        context, name, False, lambda done, event: done or isinstance(event, erased)
    )
    return ErasedFlag(line, erased)


async def cancel_then_erase(
    host: ServiceHost,
    rec: RecordedEvent,
    *,
    going: TextClause,
    work: AggregateType,
    cancel: Callable[[object, str], object | None],
    line: ErasedFlag,
    races: int,
) -> bool:
    """`rec` is any event of the EXPERT stream; only an `ExpertDeleted` starts the cascade
    (True when it ran). `going` selects the ids of the expert's work still going (`:t` the
    tenant, `:e` the expert); each is cancelled on `work` by `cancel(state, id)` (None:
    nothing to cancel), then `line.erased(expert_id=…)` is appended on the line unless it
    was already."""
    if not isinstance(rec.event, ExpertDeleted):
        return False
    tenant, expert_id = rec.tenant, rec.event.expert_id

    async def going_ids(conn: AsyncConnection) -> list[str]:
        return list(await conn.scalars(going, {"t": tenant, "e": expert_id}))

    ids = await host.read_now(going_ids)
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
    await line.line.execute(
        host.store,
        tenant,
        expert_id,
        lambda erased: None if erased else line.erased(expert_id=expert_id),
        event_id=derived_id(rec.event_id, "erased"),
        correlation_id=rec.correlation_id,
        races=races,
    )
    return True
