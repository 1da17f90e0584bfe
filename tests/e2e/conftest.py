"""The browser tests first check that the pinned Playwright can drive this machine's Chromium
(see tests/support/chromium.py): outside the range, every e2e test fails in CI, or is
skipped elsewhere, with one message saying what to install or pin, instead of failing later
in ways that do not name the cause."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright, expect

from tests.e2e.browser import CHROMIUM_ARGS, UI_TIMEOUT_MS
from tests.support import chromium

# What a page is expected to show, it must show within UI_TIMEOUT_MS, not Playwright's 5 s: the suite
# runs the browser beside another worker's multi-process stacks on two cores, where a page's
# answer streamed by the model or a build's first progress can take longer than 5 s to show.
expect.set_options(timeout=UI_TIMEOUT_MS)


@pytest.fixture(scope="session", autouse=True)
def chromium_suits_playwright() -> None:
    found = chromium.problem()
    if found is None:
        return
    if os.environ.get("CI"):  # in CI a missing or mismatched browser fails, as .ci/run sets
        pytest.fail(found, pytrace=False)
    pytest.skip(found)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(chromium.CHROMIUM), args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()
