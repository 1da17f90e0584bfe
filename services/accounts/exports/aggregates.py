"""The aggregate types of the data jobs: `export.<job_id>` and `import.<job_id>` on the
ACCOUNTS log, under the tenant of the person whose data they carry."""

from __future__ import annotations

from contracts.accounts import CONTEXT, EXPORT_AGGREGATE, IMPORT_AGGREGATE
from runtime.aggregate import AggregateType
from services.accounts.exports import domain

EXPORT = AggregateType(CONTEXT, EXPORT_AGGREGATE, domain.INITIAL, domain.evolve)
IMPORT = AggregateType(CONTEXT, IMPORT_AGGREGATE, domain.INITIAL, domain.evolve)
