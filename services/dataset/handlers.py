"""Commands and queries of the dataset service: start and cancel builds, edit a version into
a new one, read versions, their examples, their rejections and their exports."""

from __future__ import annotations

import uuid

from contracts.base import Accepted, DomainError, ErrorCode, ObjectRef
from contracts.dataset import (
    AddExample,
    BuildDataset,
    CancelBuild,
    DatasetBuildRequested,
    DatasetList,
    DatasetRevised,
    DatasetView,
    DeleteExample,
    EditExample,
    ExamplePage,
    ExportDataset,
    ExportReady,
    GetDataset,
    ListDatasets,
    ListExamples,
    ListRejections,
    RejectionList,
)
from runtime.experts import require_expert
from runtime.rpc import not_found
from runtime.service import ServiceHost
from services.dataset import domain, revising
from services.dataset.aggregates import BUILD, LINES
from services.dataset.builder import counts_of
from services.dataset.content import Content
from services.dataset.exports import render
from services.dataset.manual_import import ManualImportError, parse_manual_jsonl
from services.dataset.projections import get_dataset, list_datasets, to_view


class DatasetHandlers:
    def __init__(self, host: ServiceHost, content: Content) -> None:
        self.host, self.content = host, content

    # ---- commands ---------------------------------------------------------------------------

    async def build(self, cmd: BuildDataset) -> Accepted:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        spec = cmd.spec
        if cmd.manual_jsonl:
            try:
                imported = parse_manual_jsonl(cmd.manual_jsonl.encode("utf-8"))
            except ManualImportError as exc:
                raise DomainError(ErrorCode.INVALID, f"the manual examples: {exc}") from exc
            sources = revising.with_manual(spec.sources, imported)
            spec = revising.replace(spec, sources=sources)
        if not revising.any_source(spec.sources):
            raise DomainError(ErrorCode.INVALID, "choose at least one source of examples")
        dataset_id = uuid.uuid4().hex[:16]

        def decide(state: domain.LineState) -> DatasetBuildRequested:
            return DatasetBuildRequested(
                dataset_id=dataset_id,
                expert_id=cmd.expert_id,
                version=domain.next_version(state),
                spec=spec,
            )

        outcome = await LINES.execute(self.host.store, cmd.tenant, cmd.expert_id, decide)
        return Accepted(id=dataset_id, seq=outcome.seq)

    async def cancel(self, cmd: CancelBuild) -> Accepted:
        await self._row(cmd.tenant, cmd.dataset_id)
        outcome = await BUILD.execute(
            self.host.store,
            cmd.tenant,
            cmd.dataset_id,
            lambda s: domain.decide_cancel(s, cmd.dataset_id),
        )
        return Accepted(id=cmd.dataset_id, seq=outcome.seq)

    async def edit(self, cmd: EditExample) -> Accepted:
        return await self._revise(cmd, lambda examples, row: revising.edit(examples, cmd))

    async def delete(self, cmd: DeleteExample) -> Accepted:
        return await self._revise(cmd, lambda examples, row: revising.delete(examples, cmd))

    async def add(self, cmd: AddExample) -> Accepted:
        row = await self._row(cmd.tenant, cmd.dataset_id)
        system = (await require_expert(self.host.nc, cmd.tenant, row.expert_id)).text
        return await self._revise(
            cmd, lambda examples, row: revising.add(examples, cmd, system=system, seed=row.seed)
        )

    async def _revise(self, cmd, change) -> Accepted:
        """A new version: the parent's examples with one change, stored, then announced on
        the expert's line (the parent stays as it was)."""
        row = await self._row(cmd.tenant, cmd.dataset_id)
        if row.status != "ready":
            raise DomainError(
                ErrorCode.CONFLICT, f"dataset {cmd.dataset_id} is {row.status}; wait until ready"
            )
        parent = to_view(row)
        examples = list(await self.content.examples(parent.content))
        kind, example_id, changed = change(examples, row)
        count = await self.content.token_counter()
        revising.check_length(changed, example_id, count, self.host.settings.max_seq_length)
        stored = await self.content.put_examples(cmd.tenant, row.expert_id, changed)
        new_id = uuid.uuid4().hex[:16]

        def decide(state: domain.LineState) -> DatasetRevised:
            return DatasetRevised(
                dataset_id=new_id,
                expert_id=row.expert_id,
                version=domain.next_version(state),
                parent=cmd.dataset_id,
                change=kind,
                example_id=example_id,
                content=stored,
                counts=counts_of(changed, parent.rejected),  # the build's, not redone
                min_examples=self.host.settings.min_training_examples,
            )

        outcome = await LINES.execute(self.host.store, cmd.tenant, row.expert_id, decide)
        return Accepted(id=new_id, seq=outcome.seq)

    # ---- queries ----------------------------------------------------------------------------

    async def get(self, query: GetDataset) -> DatasetView:
        await self.host.caught_up("DATASET", query.after_seq)
        return to_view(await self._row(query.tenant, query.dataset_id))

    async def list(self, query: ListDatasets) -> DatasetList:
        await self.host.caught_up("DATASET", query.after_seq)
        async with self.host.engine.connect() as conn:
            return DatasetList(datasets=await list_datasets(conn, query.tenant, query.expert_id))

    async def examples(self, query: ListExamples) -> ExamplePage:
        await self.host.caught_up("DATASET", query.after_seq)
        view = await self._ready(query.tenant, query.dataset_id)
        examples = [
            e
            for e in await self.content.examples(view.content)
            if (query.split is None or e.split == query.split)
            and (query.source is None or e.source == query.source)
        ]
        page = examples[query.offset : query.offset + query.limit]
        return ExamplePage(examples=page, total=len(examples))

    async def rejections(self, query: ListRejections) -> RejectionList:
        await self.host.caught_up("DATASET", query.after_seq)
        row = await self._row(query.tenant, query.dataset_id)
        if row.rejections is None:
            return RejectionList(rejections=[])
        found = await self.content.rejections(ObjectRef(**row.rejections))
        return RejectionList(rejections=found)

    async def export(self, query: ExportDataset) -> ExportReady:
        """The version in `format` for `split`, rendered once and kept beside its content."""
        view = await self._ready(query.tenant, query.dataset_id)
        name = f"{query.format}.{query.split}.jsonl"
        examples = await self.content.examples(view.content)
        data = render(examples, query.format, query.split)
        ref = await self.content.put_export(view.content, name, data)
        filename = f"dataset-v{view.version}-{query.format}-{query.split}.jsonl"
        return ExportReady(object=ref, filename=filename, lines=data.count(b"\n"))

    # ---- helpers ----------------------------------------------------------------------------

    async def _row(self, tenant: str, dataset_id: str):
        async with self.host.engine.connect() as conn:
            row = await get_dataset(conn, tenant, dataset_id)
        if row is None:
            raise not_found(f"dataset {dataset_id}")
        return row

    async def _ready(self, tenant: str, dataset_id: str) -> DatasetView:
        view = to_view(await self._row(tenant, dataset_id))
        if view.status != "ready" or view.content is None:
            raise DomainError(
                ErrorCode.CONFLICT, f"dataset {dataset_id} is {view.status}; it has no examples"
            )
        return view
