"""Reclaiming disk: what a service's files and objects are, against what its projections say
is live. Each service that owns files has a sweeper (`services/<context>/sweeper.py`) that
lists them, asks its own tables which are still referred to, and removes the rest — only
once older than `SIMTUNE_SWEEP_GRACE_S`, so work in flight (a file written a moment before
the event that will refer to it) is never taken. This module is the part they share: the
periodic loop and the age of a file tree."""

from __future__ import annotations

import abc
import asyncio
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from runtime.logs import get_logger
from runtime.service import Hosted

if TYPE_CHECKING:
    from sqlalchemy import TextClause

    from runtime.service import ServiceHost

log = get_logger(__name__)

SWEEP_EVERY_S = 900.0  # between two sweeps of one service (and one right after it starts)


async def sweep_forever(
    name: str, sweep: Callable[[], Awaitable[int]], every_s: float = SWEEP_EVERY_S
) -> None:
    """Run `sweep` now and every `every_s`; a failed sweep is logged and tried next time (a
    sweep removes only what it has checked, so a half-done one leaves nothing wrong)."""
    while True:
        try:
            removed = await sweep()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the next sweep tries again
            log.warning("sweep.failed", sweeper=name, error=f"{type(exc).__name__}: {exc}")
        else:
            if removed:
                log.info("sweep.removed", sweeper=name, removed=removed)
        await asyncio.sleep(every_s)


def grace_of(host: ServiceHost, grace_s: float | None) -> float:
    """The grace period of one sweep: the one asked for (a test sweeps with 0), else the
    configured `SIMTUNE_SWEEP_GRACE_S`."""
    return host.settings.sweep_grace_s if grace_s is None else grace_s


class Sweeper(Hosted, abc.ABC):
    """A sweeper that judges its files by the rows of its own tables: `references` are the
    queries whose rows are live, read once the projections have caught up with the log (so
    nothing the log refers to is judged unreferenced); `sweep_unreferenced` gets the grace
    and one set of row tuples per query, and removes what none of them keeps."""

    references: tuple[TextClause, ...] = ()

    async def sweep(self, grace_s: float | None = None) -> int:
        await self.host.caught_up_with_log()
        async with self.host.engine.connect() as conn:
            rows = [{tuple(r) for r in (await conn.execute(q)).all()} for q in self.references]
        return await self.sweep_unreferenced(grace_of(self.host, grace_s), *rows)

    @abc.abstractmethod
    async def sweep_unreferenced(self, grace: float, *live: set[tuple]) -> int:
        """Remove what none of the `live` rows keeps and is older than `grace` seconds; how
        many things went."""


def cutoff(grace_s: float) -> float:
    """The time (epoch seconds) before which something unreferenced may go."""
    return time.time() - grace_s


def object_cutoff(grace_s: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=grace_s)


def newest_mtime(path: Path) -> float:
    """The latest modification time in a file tree (a folder still being written is young)."""
    try:
        newest = path.lstat().st_mtime
    except FileNotFoundError:
        return 0.0
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            for entry in (*dirs, *files):
                try:
                    newest = max(newest, os.lstat(os.path.join(root, entry)).st_mtime)
                except FileNotFoundError:
                    continue
    return newest


def remove_tree(path: Path) -> bool:
    """Remove a file or folder; False when it was not there (removing twice is fine)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
        return True
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def stale_children(folder: Path, before: float) -> list[Path]:
    """The entries of `folder` whose whole tree is older than `before` (none: no folder)."""
    if not folder.is_dir():
        return []
    return [p for p in folder.iterdir() if newest_mtime(p) < before]
