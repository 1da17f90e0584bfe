"""What the browser tests share: Debian's Chromium (`tests.support.chromium`), the flags it
starts with, and how long one step in a page may take. The `browser` fixture that starts it
is in this folder's conftest.py."""

from __future__ import annotations

import os

import pytest

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


def skip_without_chromium() -> None:
    """Skip the calling test module where no Chromium is installed (in CI one that is missing
    fails instead, by conftest.py's check)."""
    if not CHROMIUM.is_file() and not os.environ.get("CI"):
        pytest.skip(
            f"the e2e tests drive Debian's Chromium at {CHROMIUM}, which is not installed: "
            "run `sudo apt-get install -y chromium` (no `playwright install` needed)",
            allow_module_level=True,
        )
