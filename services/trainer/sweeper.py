"""Reclaiming the trainer's disk: what no run still going refers to goes, once older than the
grace period (`SIMTUNE_SWEEP_GRACE_S`).

- `SIMTUNE_HOME/trainer/runs/<tenant>/<run>/`: the work folder of a run that has ended (a
  run cancelled or failed while no worker followed it keeps its folder otherwise);
- the `checkpoints` bucket (`<tenant>/<run>/checkpoint-<step>.tar`): every archive of an
  ended run, and of a run still going all but its latest (a training process restarted
  from scratch leaves the one before behind).
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from contracts.trainer import CHECKPOINTS
from runtime.objects import Stored
from runtime.sweeping import Sweeper, cutoff, object_cutoff, remove_tree, stale_children

GOING = text("SELECT tenant, id FROM trainer.runs WHERE status IN ('queued', 'running')")
STEP = re.compile(r"checkpoint-(\d+)\.tar$")


class TrainerSweeper(Sweeper):
    references = (GOING,)  # a run just queued is seen as going

    async def sweep_unreferenced(self, grace: float, going: set) -> int:
        runs = self.host.settings.home / "trainer" / "runs"
        removed = await asyncio.to_thread(sweep_work, runs, going, cutoff(grace))
        return removed + await self.sweep_checkpoints(going, grace)

    async def sweep_checkpoints(self, going: set, grace: float) -> int:
        stored, removed = await self.host.objects.list(CHECKPOINTS), 0
        for name in doomed_checkpoints(stored, going, object_cutoff(grace)):
            removed += await self.host.objects.delete(CHECKPOINTS, name)
        return removed


def doomed_checkpoints(stored: list[Stored], going: set, before: datetime) -> list[str]:
    """The archives to delete: older than `before`, and either of a run that is not going,
    or of one that is, but not its latest (what it would resume from)."""
    latest: dict[tuple[str, str], int] = {}
    for s in stored:
        key = run_of(s.name)
        latest[key] = max(latest.get(key, -1), step_of(s.name))
    return [
        s.name
        for s in stored
        if s.mtime < before
        and not (run_of(s.name) in going and step_of(s.name) == latest[run_of(s.name)])
    ]


def run_of(name: str) -> tuple[str, str]:
    tenant, run_id, _ = (name.split("/", 2) + ["", ""])[:3]
    return tenant, run_id


def step_of(name: str) -> int:
    found = STEP.search(name)
    return int(found.group(1)) if found else -1


def sweep_work(runs: Path, going: set, before: float) -> int:
    removed = 0
    for tenant in runs.iterdir() if runs.is_dir() else ():
        for folder in stale_children(tenant, before):
            if (tenant.name, folder.name) not in going:
                removed += remove_tree(folder)
    return removed
