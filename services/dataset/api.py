"""Wiring of the dataset service: its endpoints, its projection, the build reactor."""

from __future__ import annotations

from contracts.dataset import (
    AddExample,
    BuildDataset,
    CancelBuild,
    DeleteExample,
    EditExample,
    ExportDataset,
    GetDataset,
    ListDatasets,
    ListExamples,
    ListRejections,
)
from runtime.service import ServiceHost
from services.dataset.builder import Builder
from services.dataset.content import Content
from services.dataset.handlers import DatasetHandlers
from services.dataset.projections import DatasetsProjection

NAME = "dataset"
LINE_EVENTS = "evt.dataset.*.line.>"
BUILDS_AT_ONCE = 2  # a build mostly waits on other services; two keep one slow build from blocking


async def build(host: ServiceHost) -> None:
    content = Content(host.objects, host.settings)
    handlers, builder = DatasetHandlers(host, content), Builder(host, content)
    host.project(DatasetsProjection())
    host.react(
        "dataset.build",
        "DATASET",
        builder.on_line,
        subject=LINE_EVENTS,
        give_up=builder.gave_up,
        concurrency=BUILDS_AT_ONCE,
    )
    host.endpoints.command("build", BuildDataset, handlers.build)
    host.endpoints.command("cancel", CancelBuild, handlers.cancel)
    host.endpoints.command("edit_example", EditExample, handlers.edit)
    host.endpoints.command("delete_example", DeleteExample, handlers.delete)
    host.endpoints.command("add_example", AddExample, handlers.add)
    host.endpoints.query("get", GetDataset, handlers.get)
    host.endpoints.query("list", ListDatasets, handlers.list)
    host.endpoints.query("examples", ListExamples, handlers.examples)
    host.endpoints.query("rejections", ListRejections, handlers.rejections)
    host.endpoints.query("export", ExportDataset, handlers.export)
