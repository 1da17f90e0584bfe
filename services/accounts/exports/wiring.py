"""Wiring of the data jobs in the accounts service: their read model, the export and import
reactors, the sweeper of old archives, their endpoints."""

from __future__ import annotations

from contracts.accounts import EXPORT_AGGREGATE, IMPORT_AGGREGATE
from runtime.eventstore import events_of
from runtime.service import ServiceHost
from runtime.sweeping import sweep_forever
from services.accounts.exports.exporting import ExportJob
from services.accounts.exports.handlers import DataJobHandlers
from services.accounts.exports.projection import DataJobsProjection
from services.accounts.exports.restoring import ImportJob
from services.accounts.exports.sweeper import DataJobSweeper


def wire(host: ServiceHost) -> None:
    exports, imports = ExportJob(host), ImportJob(host)
    host.project(DataJobsProjection())
    host.react("accounts.export", host.stream, exports.on_export,
               subject=events_of(host.stream, EXPORT_AGGREGATE), give_up=exports.gave_up)  # fmt: skip
    host.react("accounts.import", host.stream, imports.on_import,
               subject=events_of(host.stream, IMPORT_AGGREGATE), give_up=imports.gave_up)  # fmt: skip
    host.data_jobs_sweeper = DataJobSweeper(host)  # tests and tools sweep by hand
    sweep = host.data_jobs_sweeper.sweep
    host.background("data-jobs-sweep", lambda: sweep_forever("data-jobs", sweep))
    host.endpoints.serve_handlers(DataJobHandlers(host))
