"""Keeping the plain files in step with the log: after each change to an expert's versions,
its manifests and `active.json` are written again from the log; a deleted version's folder,
stored files and export are removed; once the expert's versions are erased (the expert was
deleted) every version's folder, stored files and export, and its `active.json`, are removed
and nothing of it is written again. After a rebuild every expert's files are written again, so
the files are a projection like any table: delete them, rebuild, and they come back equal."""

from __future__ import annotations

import asyncio

from contracts.registry import (
    EXPORTS,
    AdapterActivated,
    AdapterDeleted,
    AdapterRolledBack,
)
from contracts.trainer import BUCKET
from runtime.eventstore import RecordedEvent
from runtime.reactor import Progress
from runtime.service import Hosted
from services.registry import files, views
from services.registry.aggregates import EXPERT_VERSIONS
from services.registry.domain import Versions


class Mirroring(Hosted):
    async def on_registry(self, rec: RecordedEvent, _: Progress) -> None:
        tenant, expert_id = rec.tenant, rec.aggregate_id
        state, _ = await EXPERT_VERSIONS.load(self.host.store, tenant, expert_id)
        if state.erased:
            await self.erase(tenant, expert_id, state)
            return
        if isinstance(rec.event, AdapterDeleted):
            await self.forget(tenant, rec.event, state)
        await files.sync(self.host.settings.home, tenant, expert_id, state, touched(rec.event))

    async def erase(self, tenant: str, expert_id: str, state: Versions) -> None:
        """Everything of an erased expert's versions, each removed once however often this
        runs: folders, stored files, exports, the expert's `active.json`."""
        home = self.host.settings.home
        for adapter_id in {**state.versions, **state.deleted}:
            await self.host.objects.delete_under(BUCKET, f"{tenant}/{adapter_id}/")
            await self.host.objects.delete(EXPORTS, f"{tenant}/adapters/{adapter_id}.tar.gz")
            await asyncio.to_thread(files.remove_version, home, adapter_id)
        await asyncio.to_thread(files.remove_expert, home, tenant, expert_id)

    async def forget(self, tenant: str, deleted: AdapterDeleted, state: Versions) -> None:
        version = state.deleted.get(deleted.adapter_id)
        if version is None or deleted.adapter_id in state.versions:
            return
        for f in version.registered.files:
            await self.host.objects.delete(BUCKET, f"{tenant}/{deleted.adapter_id}/{f.name}")
        await self.host.objects.delete(EXPORTS, f"{tenant}/adapters/{deleted.adapter_id}.tar.gz")
        files.remove_version(self.host.settings.home, deleted.adapter_id)

    async def rewrite_all(self) -> None:
        """Every expert's files from the log (after a rebuild of the tables)."""
        async with self.host.engine.connect() as conn:
            experts = await views.experts(conn)
        for tenant, expert_id in experts:
            state, _ = await EXPERT_VERSIONS.load(self.host.store, tenant, expert_id)
            if not state.erased:
                await files.sync(self.host.settings.home, tenant, expert_id, state)


def touched(event) -> set[str]:
    """The versions whose manifest an event changes: itself, or (an activation or rollback)
    the version it made active and the one it replaced."""
    if isinstance(event, AdapterActivated | AdapterRolledBack):
        new = {event.adapter.adapter_id} if event.adapter else set()
        return new | ({event.previous_adapter_id} if event.previous_adapter_id else set())
    return {getattr(event, "adapter_id", "")} - {""}
