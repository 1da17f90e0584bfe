"""Wiring of the dataset service: its read model, the build reactor, its endpoints."""

from __future__ import annotations

from contracts import dataset
from runtime.eventstore import events_of
from runtime.service import ServiceHost
from services.dataset.commands import DatasetCommands
from services.dataset.content import Content
from services.dataset.projections import DatasetsProjection
from services.dataset.queries import DatasetQueries
from services.dataset.reactors import Builder

NAME = "dataset"
BUILDS_AT_ONCE = 2  # a build mostly waits on other services; two keep one slow build from blocking


async def build(host: ServiceHost) -> None:
    content = Content(host.objects, host.settings)
    commands, queries = DatasetCommands(host, content), DatasetQueries(host, content)
    builder, line_events = Builder(host, content), events_of(host.stream, dataset.LINE)
    host.project(DatasetsProjection())
    host.react("dataset.build", host.stream, builder.on_line, subject=line_events,
               give_up=builder.gave_up, concurrency=BUILDS_AT_ONCE)  # fmt: skip
    host.endpoints.serve_handlers(commands, queries)
