"""Queries of the dataset service: versions, one version, its examples, its rejections, and its
examples rendered for export."""

from __future__ import annotations

from contracts import dataset
from contracts.base import DomainError, ErrorCode, ObjectRef, Query
from runtime.service import ServiceHost
from services.dataset import views
from services.dataset.content import Content
from services.dataset.exports import render


class DatasetQueries:
    def __init__(self, host: ServiceHost, content: Content) -> None:
        self.host, self.content = host, content

    async def get(self, query: dataset.GetDataset) -> dataset.DatasetView:
        return views.to_view(await self._row(query))

    async def list(self, query: dataset.ListDatasets) -> dataset.DatasetList:
        versions = await self.host.read(
            query, lambda conn: views.versions(conn, query.tenant, query.expert_id)
        )
        return dataset.DatasetList(datasets=versions)

    async def examples(self, query: dataset.ListExamples) -> dataset.ExamplePage:
        view = await self._ready(query)
        examples = [
            e
            for e in await self.content.examples(query.tenant, view.content)
            if (query.split is None or e.split == query.split)
            and (query.source is None or e.source == query.source)
        ]
        page = examples[query.offset : query.offset + query.limit]
        return dataset.ExamplePage(examples=page, total=len(examples))

    async def rejections(self, query: dataset.ListRejections) -> dataset.RejectionList:
        row = await self._row(query)
        if row.rejections is None:
            return dataset.RejectionList(rejections=[])
        found = await self.content.rejections(query.tenant, ObjectRef(**row.rejections))
        return dataset.RejectionList(rejections=found)

    async def export(self, query: dataset.ExportDataset) -> dataset.ExportReady:
        """The version in `format` for `split`, rendered once and kept beside its content."""
        view = await self._ready(query)
        name = f"{query.format}.{query.split}.jsonl"
        examples = await self.content.examples(query.tenant, view.content)
        data = render(examples, query.format, query.split)
        ref = await self.content.put_export(query.tenant, view.content, name, data)
        filename = f"dataset-v{view.version}-{query.format}-{query.split}.jsonl"
        return dataset.ExportReady(object=ref, filename=filename, lines=data.count(b"\n"))

    async def _row(self, query: Query):
        """The row of the version `query` names, as of `query.after_seq`; 404 without one."""
        return await self.host.read_by_id(query, views.row, query.dataset_id, "dataset")

    async def _ready(self, query: Query) -> dataset.DatasetView:
        view = views.to_view(await self._row(query))
        if view.status != "ready" or view.content is None:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"dataset {query.dataset_id} is {view.status}; it has no examples",
            )
        return view
