"""A projection that cannot apply an event, made on purpose: its view's table is given a
CHECK constraint that refuses one row, so the projector parks that event and says so, and
the test sees what users see while a view is stuck and how it goes on once it can apply."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from runtime.projector import Pacing, Projector

# Retries and parking in tenths of a second, so a stuck view shows within a test's patience.
QUICK = Pacing(attempts=2, backoff_s=0.05, parked_retry_s=0.3, hold_retry_s=0.2, idle_s=0.3)


@asynccontextmanager
async def refusing_view(host, projection: str, check: str) -> AsyncIterator[Projector]:
    """While inside, the table of `projection` (named as the projection: `expert.experts`)
    refuses every row for which the SQL `check` is false, and its projector retries QUICKly.
    On the way out the constraint goes, the projector is woken and waited for until it
    caught up (so it applied what it had parked), and its pacing is given back."""
    projector = host.projectors[projection]
    pacing, projector.pacing = projector.pacing, QUICK
    async with host.engine.begin() as conn:
        await conn.execute(
            text(f"ALTER TABLE {projection} ADD CONSTRAINT refuses_poison CHECK ({check})")
        )
    try:
        yield projector
    finally:
        async with host.engine.begin() as conn:
            await conn.execute(
                text(f"ALTER TABLE {projection} DROP CONSTRAINT IF EXISTS refuses_poison")
            )
        projector.wake()
        await host.wait_caught_up(timeout=30)
        projector.pacing = pacing
