"""When an expert is deleted, its runs still queued or running are cancelled: nothing trains,
or spends money, for an expert that is gone. Once each of its runs has ended, what a run
keeps on disk is removed: its work folder (`SIMTUNE_HOME/trainer/runs/<tenant>/<run>/`) and
every checkpoint archive of it in the `checkpoints` bucket. Then `RunsErased` on the expert's
line drops its runs and fine-tuning settings from the views. Removing what is already gone is
a no-op and the erasure is decided once, so a redelivery is harmless."""

from __future__ import annotations

import asyncio

from contracts.expert import ExpertDeleted
from contracts.trainer import CHECKPOINTS, CONTEXT, LINE, RunQueued
from runtime.eventstore import RecordedEvent, derived_id
from runtime.reactor import Progress
from runtime.service import Hosted
from runtime.sweeping import remove_tree
from services.trainer import domain, views
from services.trainer.aggregates import LINES, RUNS
from services.trainer.local.workdir import WorkDir

ENDED_WAIT_S = 600.0  # a cancelled run stops within seconds; past this, the reaction is retried
POLL_S = 0.5


class Cascade(Hosted):
    async def on_expert(self, rec: RecordedEvent, progress: Progress) -> None:
        if not isinstance(rec.event, ExpertDeleted):
            return
        runs = await self.host.read_now(
            lambda conn: views.active_runs(conn, rec.tenant, rec.event.expert_id)
        )
        for run_id in runs:
            await RUNS.execute(
                self.host.store,
                rec.tenant,
                run_id,
                lambda s, r=run_id: domain.decide_cancel(s, r) if domain.going(s) else None,
                event_id=derived_id(rec.event_id, run_id),
                correlation_id=rec.correlation_id,
            )
        await self.remove_files(rec.tenant, rec.event.expert_id, progress)
        await LINES.execute(
            self.host.store,
            rec.tenant,
            rec.event.expert_id,
            lambda line: domain.decide_erase(line, rec.event.expert_id),
            event_id=derived_id(rec.event_id, "erased"),
            correlation_id=rec.correlation_id,
            races=5,  # a run's settlement may land on the line at the same moment
        )

    async def remove_files(self, tenant: str, expert_id: str, progress: Progress) -> None:
        """Each run's work folder and checkpoints, once the run has ended (its worker cleans
        up after itself too; this is for runs that ended with no worker following them)."""
        deadline = asyncio.get_running_loop().time() + ENDED_WAIT_S
        while True:
            going = await self.host.read_now(
                lambda conn: views.active_runs(conn, tenant, expert_id)
            )
            if not going:
                break
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"runs {going} of deleted expert {expert_id} still going")
            await progress()
            await asyncio.sleep(POLL_S)
        # every run the expert ever had is on its line, even once the views have dropped them
        line, _ = await self.host.store.load(CONTEXT, tenant, LINE, expert_id)
        runs = [r.event.run_id for r in line if isinstance(r.event, RunQueued)]
        home = self.host.settings.home
        for run_id in runs:
            await asyncio.to_thread(remove_tree, WorkDir(home, tenant, run_id).root)
            await self.host.objects.delete_under(CHECKPOINTS, f"{tenant}/{run_id}/")
