"""Running one rebuild job: each projection of a service in turn, its progress recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from contracts.base import ProjectionProgress
from runtime.jobs import STOPPED, Jobs
from runtime.logs import get_logger
from runtime.rebuild import RebuildFailed

log = get_logger(__name__)

REPORT_EVERY_S = 0.5  # progress written at most this often
AfterRebuild = Callable[[], Awaitable[None]]
HEARTBEAT_S = 5.0  # and at least this often, so other replicas see the job is alive


async def run_rebuild_job(
    jobs: Jobs, job_id: str, projectors: list, after: Sequence[AfterRebuild] = ()
) -> dict[str, int]:
    """Rebuild every projector, then run `after` (what a service derives from its rebuilt
    tables, such as files); returns events replayed per projection. A failure is recorded
    on the job (one sentence) and raised again as RebuildFailed."""
    progress = {p.name: ProjectionProgress(name=p.name) for p in projectors}
    changed = asyncio.Event()

    def on_progress(name: str, replayed: int, total: int) -> None:
        progress[name] = ProjectionProgress(name=name, replayed=replayed, total=total)
        changed.set()

    ended = False

    async def report() -> None:
        # Ends on `ended` even if its cancellation is lost: on Python 3.11 `wait_for` can
        # swallow one that lands as its wait times out (a rebuild then never finished).
        while not ended:
            try:
                await asyncio.wait_for(changed.wait(), HEARTBEAT_S)
            except TimeoutError:
                pass
            changed.clear()
            await jobs.progress(job_id, list(progress.values()))
            await asyncio.sleep(REPORT_EVERY_S)

    reporter = asyncio.create_task(report())
    replayed: dict[str, int] = {}
    current = ""
    try:
        for projector in projectors:
            current = projector.name
            replayed[current] = await projector.rebuild(on_progress=on_progress)
        for hook in after:
            current = getattr(hook, "__qualname__", "what follows the tables")
            await hook()
    except asyncio.CancelledError:
        reporter.cancel()
        await jobs.finish(job_id, error=STOPPED)
        raise
    except Exception as exc:
        reporter.cancel()
        if isinstance(exc, RebuildFailed):
            why = f"rebuilding {current} failed: {exc}"
        else:
            log.exception("rebuild.failed", projection=current, job=job_id)
            why = f"rebuilding {current} failed; the service's log says why"
        await jobs.finish(job_id, error=why)
        raise RebuildFailed(why) from exc
    finally:
        ended = True
        reporter.cancel()
        await asyncio.gather(reporter, return_exceptions=True)
    await jobs.progress(job_id, list(progress.values()))
    await jobs.finish(job_id)
    return replayed
