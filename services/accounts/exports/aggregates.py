"""The aggregate types of the data jobs: `export.<job_id>` and `import.<job_id>` on the
ACCOUNTS log, under the tenant of the person whose data they carry."""

from __future__ import annotations

from contracts.accounts import CONTEXT, EXPORT_AGGREGATE, IMPORT_AGGREGATE
from runtime.aggregate import AggregateType
from runtime.eventstore import EventStore, RecordedEvent, derived_id
from services.accounts.exports import domain

EXPORT = AggregateType(CONTEXT, EXPORT_AGGREGATE, domain.INITIAL, domain.evolve)
IMPORT = AggregateType(CONTEXT, IMPORT_AGGREGATE, domain.INITIAL, domain.evolve)


async def end_job(store: EventStore, job: AggregateType, rec: RecordedEvent, outcome) -> None:
    """A data job's last word (`outcome`, finished or failed) on `job`, decided once: its event
    id derives from the request's, so a redelivery decides nothing."""
    await job.execute(
        store, rec.tenant, rec.event.job_id,
        lambda s: domain.decide_end(s, outcome),
        event_id=derived_id(rec.event_id, "end"),
    )  # fmt: skip
