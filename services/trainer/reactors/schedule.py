"""Runs that start on their own: at each tick of `FINETUNE_SCHEDULE` (cron, default Sunday
02:00), every expert with a ready dataset gets a run when at least `FINETUNE_MIN_TRACES`
examples have arrived since its last run and none of its runs is active. A tick that starts
nothing says why, in the log and on the expert's settings (the dashboard shows it).

Every replica of the trainer ticks; the run of a tick is named after the tick, and its
`RunQueued` carries an event id made from that name, so a tick queues one run however many
replicas saw it. Skips are recorded the same way: once a tick.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from croniter import croniter

from contracts.base import DomainError
from contracts.trainer import CONTEXT, SETTINGS, ScheduledRunSkipped
from runtime.experts import expert_exists
from runtime.logs import get_logger
from runtime.service import ServiceHost
from services.trainer import views

if TYPE_CHECKING:  # the queries read next_tick from here, and commands import the queries
    from services.trainer.commands import TrainerCommands
    from services.trainer.planning import Planner

log = get_logger(__name__)


def next_tick(schedule: str, after: datetime | None = None) -> str | None:
    if schedule == "off":
        return None
    start = after or datetime.now(UTC)
    return croniter(schedule, start).get_next(datetime).isoformat()


class Scheduler:
    def __init__(self, host: ServiceHost, planner: Planner, commands: TrainerCommands) -> None:
        self.host, self.planner, self.commands = host, planner, commands

    async def loop(self) -> None:
        schedule = self.host.settings.finetune_schedule
        if schedule == "off":
            await asyncio.Event().wait()  # nothing to do, ever
        it = croniter(schedule, datetime.now(UTC))
        while True:
            tick = it.get_next(datetime)
            await asyncio.sleep(max(0.0, (tick - datetime.now(UTC)).total_seconds()))
            try:
                await self.tick(tick.isoformat())
            except Exception:
                log.exception("schedule.tick_failed", tick=tick.isoformat())

    async def tick(self, tick: str, tenant: str | None = None) -> dict[str, str]:
        """Consider every expert with data (of one tenant, when given); returns expert id ->
        what happened."""
        await self.host.wait_caught_up(timeout=60.0)  # decide on what the log says now
        async with self.host.engine.connect() as conn:
            experts = await views.experts_with_data(conn)
        experts = [(t, e) for t, e in experts if tenant is None or t == tenant]
        outcome = {}
        for owner, expert_id in experts:
            try:
                outcome[expert_id] = await self.consider(owner, expert_id, tick)
            except DomainError as exc:
                outcome[expert_id] = await self.skip(owner, expert_id, tick, exc.detail)
        return outcome

    async def consider(self, tenant: str, expert_id: str, tick: str) -> str:
        if not await expert_exists(self.host.nc, tenant, expert_id):
            return "skipped: the expert was deleted"  # nothing to train, nothing to note
        minimum = self.host.settings.min_training_examples
        async with self.host.engine.connect() as conn:
            waiting = await views.training_data(conn, tenant, expert_id)
        if waiting.active_run is not None:
            reason = f"run {waiting.active_run} is still active"
            return await self.skip(tenant, expert_id, tick, reason)
        if waiting.dataset_id is None or waiting.fresh < minimum:
            return await self.skip(
                tenant,
                expert_id,
                tick,
                f"{max(waiting.fresh, 0)} new examples since the last run; {minimum} are needed"
                " (FINETUNE_MIN_TRACES)",
            )
        plan = await self.planner.plan(tenant, expert_id, waiting.dataset_id, None)
        if plan.backend == "openai":
            return await self.skip(
                tenant, expert_id, tick, "a hosted run waits for a person to confirm its cost"
            )
        run_id, _ = await self.commands.queue(
            tenant, expert_id, plan, "schedule", f"{tenant}/{expert_id}/tick/{tick}"
        )
        log.info("schedule.started", expert_id=expert_id, run_id=run_id, tick=tick)
        return f"started run {run_id}"

    async def skip(self, tenant: str, expert_id: str, tick: str, reason: str) -> str:
        log.info("schedule.skipped", expert_id=expert_id, tick=tick, reason=reason)
        event = ScheduledRunSkipped(expert_id=expert_id, tick=tick[:40], reason=reason[:500])
        await self.host.store.append(
            CONTEXT,
            tenant,
            SETTINGS,
            expert_id,
            event,
            expected_seq=None,
            event_id=f"skip-{tenant}-{expert_id}-{tick}",
        )
        return f"skipped: {reason}"
