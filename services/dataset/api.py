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
    host.endpoints.serve(BuildDataset, handlers.build)
    host.endpoints.serve(CancelBuild, handlers.cancel)
    host.endpoints.serve(EditExample, handlers.edit)
    host.endpoints.serve(DeleteExample, handlers.delete)
    host.endpoints.serve(AddExample, handlers.add)
    host.endpoints.serve(GetDataset, handlers.get)
    host.endpoints.serve(ListDatasets, handlers.list)
    host.endpoints.serve(ListExamples, handlers.examples)
    host.endpoints.serve(ListRejections, handlers.rejections)
    host.endpoints.serve(ExportDataset, handlers.export)
