"""Reclaiming the `datasets` bucket: an object no dataset version refers to — examples or
rejections stored for an edit or a build whose event never made it to the log (a refused
edit, a cancelled or crashed build), or an export of such an object — is deleted once older
than the grace period. Every version the view lists keeps its objects, older versions
included: a training run or the version history may still read them."""

from __future__ import annotations

from sqlalchemy import text

from contracts.dataset import BUCKET
from runtime.service import Hosted
from runtime.sweeping import grace_of, object_cutoff

EXAMPLES = ".examples.jsonl"
REFERENCED = text(
    "SELECT content->>'name' FROM dataset.datasets WHERE content IS NOT NULL"
    " UNION SELECT rejections->>'name' FROM dataset.datasets WHERE rejections IS NOT NULL"
)


class DatasetSweeper(Hosted):
    async def sweep(self, grace_s: float | None = None) -> int:
        before = object_cutoff(grace_of(self.host, grace_s))
        stored = [s for s in await self.host.objects.list(BUCKET) if s.mtime < before]
        if not stored:
            return 0
        await self.host.caught_up_with_log()  # nothing the log refers to is judged unreferenced
        async with self.host.engine.connect() as conn:
            live = set((await conn.execute(REFERENCED)).scalars())
        removed = 0
        for s in stored:
            if made_from(s.name) in live:
                continue
            removed += await self.host.objects.delete(BUCKET, s.name)
        return removed


def made_from(name: str) -> str:
    """The examples object an object belongs to: itself, or the one an export was rendered
    from (an export is named `<examples>.<format>.<split>.jsonl`)."""
    head, found, _ = name.partition(EXAMPLES + ".")
    return head + EXAMPLES if found else name
