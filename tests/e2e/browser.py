"""What the browser tests share: Debian's Chromium (`tests.support.chromium`), the flags it
starts with, and how long one step in a page may take. The `browser` fixture that starts it
is in this folder's conftest.py."""

from __future__ import annotations

import asyncio
import os

import pytest
from playwright.async_api import Page

from tests.support.chromium import CHROMIUM

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP localhost 127.0.0.1",  # the gateway listens on IPv4 only
]
UI_TIMEOUT_MS = 15_000  # clicks, page loads, fragments


async def until_true(page: Page, script: str, arg: object = None) -> None:
    """Wait until `script` (an expression, or a function of `arg`) is truthy in the page,
    asking it every 50 ms for UI_TIMEOUT_MS. Not `page.wait_for_function`: while the first
    check is false it polls with an `eval` inside the page, which the console's
    Content-Security-Policy (no 'unsafe-eval') refuses."""
    deadline = asyncio.get_running_loop().time() + UI_TIMEOUT_MS / 1000
    while not await page.evaluate(script, arg):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true in the page within {UI_TIMEOUT_MS} ms: {script}")
        await asyncio.sleep(0.05)


def skip_without_chromium() -> None:
    """Skip the calling test module where no Chromium is installed (in CI one that is missing
    fails instead, by conftest.py's check)."""
    if not CHROMIUM.is_file() and not os.environ.get("CI"):
        pytest.skip(
            f"the e2e tests drive Debian's Chromium at {CHROMIUM}, which is not installed: "
            "run `sudo apt-get install -y chromium` (no `playwright install` needed)",
            allow_module_level=True,
        )
