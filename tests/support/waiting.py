"""Waiting for a condition with a deadline, instead of sleeping and hoping it happened."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any


async def until(
    condition: Callable[[], Any], timeout: float = 30.0, what: str = "the condition"
) -> Any:
    """Call `condition` (sync or async) until what it returns is truthy, and return that; fail
    naming `what` once `timeout` seconds pass without it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s (last: {value!r})")
        await asyncio.sleep(0.05)
