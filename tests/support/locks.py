"""A table locked as a projection rebuild's swap locks it (ACCESS EXCLUSIVE), for a while:
what a reader meets during a swap, made on purpose."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@asynccontextmanager
async def held(engine: AsyncEngine, table: str, seconds: float) -> AsyncIterator[None]:
    """`table` locked through `engine` from the block's start, let go `seconds` later; the
    block's end waits for that."""
    locked = asyncio.Event()

    async def swap() -> None:
        async with engine.begin() as conn:
            await conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            await asyncio.sleep(seconds)

    swapping = asyncio.create_task(swap())
    await locked.wait()
    try:
        yield
    finally:
        await swapping
