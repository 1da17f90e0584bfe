"""Reclaiming the registry's disk: what no live version refers to goes, once older than the
grace period (`SIMTUNE_SWEEP_GRACE_S`), so an import or a registration in flight keeps its
files.

- `lora-adapters/.incoming-*`: an import or a copy that crashed half-way;
- `lora-adapters/<adapter_id>/`: a folder whose version was deleted (or never registered);
- `lora-adapters/experts/<tenant>/<expert_id>/`: the `active.json` of an expert without
  versions on record;
- the `adapters` bucket (`<tenant>/<adapter_id>/<file>`): files of no live version (a trained
  adapter whose registration never came, a deleted or erased version);
- the `exports` bucket (`<tenant>/adapters/<adapter_id>.tar.gz`): exports of versions that
  are gone;
- the `adapter-imports` bucket: uploads an import never finished with.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from contracts.registry import BUCKET, EXPORTS, IMPORTS
from runtime.adapter_files import adapters_root
from runtime.sweeping import Sweeper, cutoff, object_cutoff, remove_tree, stale_children

LIVE = text("SELECT tenant, id FROM registry.adapters WHERE deleted_at IS NULL")
EXPERTS = text("SELECT DISTINCT tenant, expert_id FROM registry.adapters")
EXPERTS_FOLDER = "experts"
EXPORT_SUFFIX = ".tar.gz"


class RegistrySweeper(Sweeper):
    references = (LIVE, EXPERTS)

    async def sweep_unreferenced(self, grace: float, live: set, experts: set) -> int:
        root = adapters_root(self.host.settings.home)
        removed = await asyncio.to_thread(sweep_folders, root, live, experts, cutoff(grace))
        return removed + await self.sweep_objects(live, grace)

    async def sweep_objects(self, live: set, grace: float) -> int:
        before, objects, removed = object_cutoff(grace), self.host.objects, 0
        for s in await objects.list(BUCKET):
            tenant, adapter_id, _ = (s.name.split("/", 2) + ["", ""])[:3]
            if (tenant, adapter_id) not in live and s.mtime < before:
                removed += await objects.delete(BUCKET, s.name)
        for s in await objects.list(EXPORTS):
            tenant, kind, file = (s.name.split("/", 2) + ["", ""])[:3]
            adapter_id = file.removesuffix(EXPORT_SUFFIX)
            if kind == "adapters" and (tenant, adapter_id) not in live and s.mtime < before:
                removed += await objects.delete(EXPORTS, s.name)
        for s in await objects.list(IMPORTS):
            if s.mtime < before:  # an import reads its upload at once and deletes it
                removed += await objects.delete(IMPORTS, s.name)
        return removed


def sweep_folders(root: Path, live: set, experts: set, before: float) -> int:
    live_ids = {adapter_id for _, adapter_id in live}
    removed = 0
    for path in stale_children(root, before):
        if path.name == EXPERTS_FOLDER:
            continue
        if path.name.startswith(".incoming-") or path.name not in live_ids:
            removed += remove_tree(path)
    tenants = root / EXPERTS_FOLDER
    for tenant_folder in tenants.iterdir() if tenants.is_dir() else ():
        for path in stale_children(tenant_folder, before):
            if (tenant_folder.name, path.name) not in experts:
                removed += remove_tree(path)
    return removed
