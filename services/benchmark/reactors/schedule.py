"""Periodic runs: each expert's own cron (`BenchSettings.schedule`, "off" by default) queues a
quick run of its active version. Every replica looks each minute; a run is named after its
expert and tick, so a tick queues one run however many replicas saw it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from croniter import croniter

from runtime.experts import expert_exists
from runtime.logs import get_logger
from services.benchmark import versions, views

log = get_logger(__name__)
LOOK_EVERY_S = 60.0


def due(schedule: str, since: datetime, now: datetime) -> datetime | None:
    """The latest tick of `schedule` in (since, now], if any."""
    if schedule == "off":
        return None
    tick = croniter(schedule, now + timedelta(seconds=1)).get_prev(datetime)
    return tick if tick > since else None


class Scheduler:
    def __init__(self, host, commands) -> None:
        self.host, self.commands = host, commands
        self.since = datetime.now(UTC)

    async def loop(self) -> None:
        while True:
            await asyncio.sleep(LOOK_EVERY_S)
            try:
                await self.look(datetime.now(UTC))
            except Exception:
                log.exception("benchmark.schedule_failed")

    async def look(self, now: datetime) -> list[str]:
        """Queue the runs that fell due since the last look; their ids."""
        async with self.host.engine.connect() as conn:
            schedules = await views.schedules(conn)
        queued = []
        for tenant, expert_id, schedule, suite in schedules:
            try:  # one expert's trouble (a schedule saved before it was checked) is its own
                run_id = await self.queue_due(tenant, expert_id, schedule, suite, now)
            except Exception:
                log.exception("benchmark.schedule_skipped", expert=expert_id, schedule=schedule)
                continue
            if run_id is not None:
                queued.append(run_id)
        self.since = now
        return queued

    async def queue_due(
        self, tenant: str, expert_id: str, schedule: str, suite: str, now: datetime
    ) -> str | None:
        """Queue the expert's run for its latest tick since the last look: one run however
        many ticks were missed (a backlog is never replayed)."""
        tick = due(schedule, self.since, now)
        if tick is None or not await expert_exists(self.host.nc, tenant, expert_id):
            return None  # not due, or the expert was deleted: its schedule went with it
        active = await versions.active(self.host.nc, tenant, expert_id)
        run_id, _ = await self.commands.queue(
            tenant, expert_id, suite, "quick", active, "schedule",
            seed=f"schedule:{tick.isoformat()}",
        )  # fmt: skip
        return run_id
