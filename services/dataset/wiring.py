"""Wiring of the dataset service: its read model, the build reactor, the cascade of a deleted
expert, the sweeper of unreferenced objects, its endpoints."""

from __future__ import annotations

from contracts import dataset, expert
from contracts.dataset import BUCKET as DATASETS
from contracts.dataset import LINE, DatasetsErased
from runtime.erasure import AfterErased, TenantErasure
from runtime.eventstore import events_of
from runtime.service import ServiceHost
from runtime.sweeping import sweep_forever
from services.dataset.commands import DatasetCommands
from services.dataset.content import Content
from services.dataset.erasing import OnExpertDeleted
from services.dataset.projections import DatasetsProjection
from services.dataset.queries import DatasetQueries
from services.dataset.reactors import Builder
from services.dataset.sweeper import DatasetSweeper

NAME = "dataset"
BUILDS_AT_ONCE = 2  # a build mostly waits on other services; two keep one slow build from blocking


async def build(host: ServiceHost) -> None:
    content = Content(host.objects, host.settings)
    commands, queries = DatasetCommands(host, content), DatasetQueries(host, content)
    builder, line_events = Builder(host, content), events_of(host.stream, dataset.LINE)
    host.project(DatasetsProjection())
    host.react("dataset.build", host.stream, builder.on_line, subject=line_events,
               give_up=builder.gave_up, concurrency=BUILDS_AT_ONCE)  # fmt: skip
    host.react("dataset.cascade", expert.STREAM, OnExpertDeleted(host).react,
               subject=events_of(expert.STREAM, expert.AGGREGATE))  # fmt: skip
    host.sweeper = DatasetSweeper(host)  # tests and tools sweep by hand
    host.background("sweep", lambda: sweep_forever("dataset", host.sweeper.sweep))
    TenantErasure(host, buckets=(DATASETS,)).wire()  # a forgotten person's datasets
    # what an erasure dropped from the views: no copy left in pages or WAL
    AfterErased(host, LINE, (DatasetsErased,), ("datasets",)).wire()
    host.endpoints.serve_handlers(commands, queries)
