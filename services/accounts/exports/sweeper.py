"""Reclaiming what data jobs leave: a finished archive once older than `EXPORT_KEEP_HOURS`
(expired on the log, its object deleted), an archive object no finished export names (a
process that stopped between storing it and saying so), an upload left in `account-imports`
(an import deletes its own when it ends) and a staging folder of a job whose process died —
each only once older than `SIMTUNE_SWEEP_GRACE_S`, so work in flight is never taken."""

from __future__ import annotations

import asyncio

from contracts.accounts import EXPORT_KEEP_HOURS, EXPORTS_BUCKET, UPLOADS_BUCKET
from runtime.service import Hosted
from runtime.sweeping import cutoff, grace_of, object_cutoff, remove_tree, stale_children
from services.accounts.exports import views
from services.accounts.exports.expiry import expire
from services.accounts.exports.exporting import work_root


class DataJobSweeper(Hosted):
    async def sweep(self, grace_s: float | None = None, keep_s: float | None = None) -> int:
        keep_s = EXPORT_KEEP_HOURS * 3600.0 if keep_s is None else keep_s
        grace = grace_of(self.host, grace_s)
        await self.host.caught_up_with_log()
        removed = 0
        async with self.host.engine.connect() as conn:
            old = await views.finished_exports(conn, older_than_s=keep_s)
        for row in old:
            await expire(self.host, row.tenant, row.id, row.archive["name"])
            removed += 1
        before = object_cutoff(grace)
        async with self.host.engine.connect() as conn:
            live = set((await conn.execute(views.LIVE_ARCHIVES)).scalars())
        for stored in await self.host.objects.list(EXPORTS_BUCKET):
            if stored.mtime < before and stored.name not in live:
                removed += await self.host.objects.delete(EXPORTS_BUCKET, stored.name)
        for stored in await self.host.objects.list(UPLOADS_BUCKET):
            if stored.mtime < before:
                removed += await self.host.objects.delete(UPLOADS_BUCKET, stored.name)
        root = work_root(self.host)
        if root.is_dir():
            for folder in await asyncio.to_thread(stale_children, root, cutoff(grace)):
                removed += await asyncio.to_thread(remove_tree, folder)
        return removed
