"""Running a queued run: long work off the `trainer.run` work queue, one run per worker.

A `RunQueued` on an expert's line starts it. Every replica of the trainer pulls from the
same durable consumer, one run at a time, so more workers train more runs at once. The run
goes to its backend (`local` or `hosted`), which puts it on the log as it goes (see
`running.RunContext`). A run redelivered after its worker died picks up where its last
checkpoint left it; one whose every attempt failed is decided as `RunFailed` with the reason.
"""

from __future__ import annotations

from contracts.trainer import RunFailed, RunQueued
from runtime.cancellable import Cancelled
from runtime.eventstore import RecordedEvent
from runtime.logs import get_logger
from runtime.reactor import Progress
from runtime.service import ServiceHost
from services.trainer import domain
from services.trainer.running import Backend, RunContext, RunFailure

log = get_logger(__name__)


class Runner:
    def __init__(self, host: ServiceHost, local: Backend, hosted: Backend) -> None:
        self.host, self.local, self.hosted = host, local, hosted

    async def on_line(self, rec: RecordedEvent, progress: Progress) -> None:
        if isinstance(rec.event, RunQueued):
            await self.run(rec, progress)

    async def run(self, rec: RecordedEvent, progress: Progress) -> None:
        ctx = RunContext(self.host, rec, progress)
        if not domain.going(await ctx.load()):
            return  # ended (or cancelled while queued) before this delivery
        backend = self.hosted if rec.event.backend == "openai" else self.local
        try:
            await backend(ctx)
        except Cancelled:
            log.info("run.cancelled", run_id=ctx.run_id)
        except RunFailure as exc:
            log.warning("run.failed", run_id=ctx.run_id, reason=exc.reason)
            await ctx.append(RunFailed(run_id=ctx.run_id, reason=exc.reason[:500]), "end")

    async def gave_up(self, rec: RecordedEvent, error: BaseException) -> None:
        """Every attempt failed (or its worker died each time): the run failed, and why."""
        if not isinstance(rec.event, RunQueued):
            return
        ctx = RunContext(self.host, rec, _nothing)
        reason = (
            f"Simtune tried {self.host.settings.max_deliveries} times to run this and failed"
            f" each time ({type(error).__name__}: {str(error)[:200]})"
        )
        await ctx.append(RunFailed(run_id=ctx.run_id, reason=reason[:500]), "end")


async def _nothing() -> None:
    return None
