"""A table locked for a while, on purpose: as a projection rebuild's swap locks it (ACCESS
EXCLUSIVE, what a reader meets during a swap), or against writes only (SHARE: a view that
lags behind its log while it can still be read)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@asynccontextmanager
async def held(
    engine: AsyncEngine, table: str, seconds: float, mode: str = "ACCESS EXCLUSIVE"
) -> AsyncIterator[None]:
    """`table` locked in `mode` through `engine` from the block's start, let go `seconds`
    later; the block's end waits for that."""
    locked = asyncio.Event()

    async def swap() -> None:
        async with engine.begin() as conn:
            await conn.execute(text(f"LOCK TABLE {table} IN {mode} MODE"))
            locked.set()
            await asyncio.sleep(seconds)

    swapping = asyncio.create_task(swap())
    await locked.wait()
    try:
        yield
    finally:
        await swapping
