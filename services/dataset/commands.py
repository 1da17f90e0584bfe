"""Commands of the dataset service: start and cancel builds, and edit, delete or add an example,
each making a new version (the parent stays as it was)."""

from __future__ import annotations

import uuid

from contracts import dataset
from contracts.base import Accepted, DomainError, ErrorCode
from runtime.experts import require_expert
from runtime.rpc import not_found
from runtime.service import ServiceHost
from services.dataset import domain, revising, views
from services.dataset.aggregates import BUILD, LINES
from services.dataset.content import Content
from services.dataset.manual_import import ManualImportError, parse_manual_jsonl
from services.dataset.split import counts_of


class DatasetCommands:
    def __init__(self, host: ServiceHost, content: Content) -> None:
        self.host, self.content = host, content

    async def build(self, cmd: dataset.BuildDataset) -> Accepted:
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
        return await self._new_version(
            cmd.tenant, cmd.expert_id, dataset_id,
            lambda version: dataset.DatasetBuildRequested(
                dataset_id=dataset_id, expert_id=cmd.expert_id, version=version, spec=spec
            ),
        )  # fmt: skip

    async def cancel(self, cmd: dataset.CancelBuild) -> Accepted:
        await self._row(cmd.tenant, cmd.dataset_id)
        outcome = await BUILD.execute(
            self.host.store, cmd.tenant, cmd.dataset_id,
            lambda s: domain.decide_cancel(s, cmd.dataset_id),
        )  # fmt: skip
        return Accepted(id=cmd.dataset_id, seq=outcome.seq)

    async def edit(self, cmd: dataset.EditExample) -> Accepted:
        return await self._revise(cmd, lambda examples, row: revising.edit(examples, cmd))

    async def delete(self, cmd: dataset.DeleteExample) -> Accepted:
        return await self._revise(cmd, lambda examples, row: revising.delete(examples, cmd))

    async def add(self, cmd: dataset.AddExample) -> Accepted:
        row = await self._row(cmd.tenant, cmd.dataset_id)
        system = (await require_expert(self.host.nc, cmd.tenant, row.expert_id)).text
        return await self._revise(
            cmd, lambda examples, row: revising.add(examples, cmd, system=system, seed=row.seed)
        )

    async def _revise(self, cmd, change) -> Accepted:
        """A new version: the examples of the newest version edited on from the page's one,
        with one change, stored, then announced on the expert's line (every older version
        stays as it was). Two edits made from one page both land, one after the other; an
        edit of an example that a newer version changed meanwhile is refused (409)."""
        await self.host.caught_up_with_log()  # every version handed out so far is in view
        row = await self._row(cmd.tenant, cmd.dataset_id)
        if row.status != "ready":
            raise DomainError(
                ErrorCode.CONFLICT, f"dataset {cmd.dataset_id} is {row.status}; wait until ready"
            )
        shown = list(await self.content.examples(cmd.tenant, views.to_view(row).content))
        kind, example_id, changed = change(shown, row)  # checked against what the page shows
        async with self.host.engine.connect() as conn:
            newest = await views.newest_from(conn, cmd.tenant, row.id)
        if newest.id != row.id:
            changed = await self._onto(cmd.tenant, newest, shown, kind, example_id, change)
        parent = views.to_view(newest)
        count = await self.content.token_counter()
        revising.check_length(changed, example_id, count, self.host.settings.max_seq_length)
        stored = await self.content.put_examples(cmd.tenant, row.expert_id, changed)
        new_id = uuid.uuid4().hex[:16]
        return await self._new_version(
            cmd.tenant, row.expert_id, new_id,
            lambda version: dataset.DatasetRevised(
                dataset_id=new_id, expert_id=row.expert_id, version=version,
                parent=newest.id, change=kind, example_id=example_id, content=stored,
                counts=counts_of(changed, parent.rejected),  # the build's, not redone
                min_examples=self.host.settings.min_training_examples,
            ),
            revising=newest.id,
        )  # fmt: skip

    async def _onto(
        self, tenant: str, newest, shown: list, kind: str, example_id: str, change
    ) -> list:
        """The change made again on the newest version's examples, unless that version
        changed the example the page showed."""
        current = list(await self.content.examples(tenant, views.to_view(newest).content))
        if kind != "added" and _example(current, example_id) != _example(shown, example_id):
            raise DomainError(
                ErrorCode.CONFLICT,
                f"a newer version exists: version {newest.version} changed this example since"
                " this page was loaded; open that version and edit it there",
            )
        return change(current, newest)[2]

    async def _new_version(
        self, tenant: str, expert_id: str, dataset_id: str, version_of, revising: str = ""
    ):
        """Append `version_of(number)` on the expert's line, numbered after every version
        handed out (and, for an edit, from a version no other edit has gone on from), and
        accept `dataset_id`."""

        def decide(state: domain.LineState):
            if revising:
                domain.check_unrevised(state, revising)
            return version_of(domain.next_version(state))

        outcome = await LINES.execute(self.host.store, tenant, expert_id, decide)
        return Accepted(id=dataset_id, seq=outcome.seq)

    async def _row(self, tenant: str, dataset_id: str):
        async with self.host.engine.connect() as conn:
            row = await views.row(conn, tenant, dataset_id)
        if row is None:
            raise not_found(f"dataset {dataset_id}")
        return row


def _example(examples: list, example_id: str):
    return next((e for e in examples if e.id == example_id), None)
