"""Which Chromium the browser tests drive, and whether the pinned Playwright can drive it.

Playwright is pinned in pyproject.toml's dev extra, but the browser is Debian's `chromium`
from apt (no `playwright install`), which moves on with every security update. Playwright
speaks the DevTools protocol of the Chromium it is built against (the `browsers.json` of its
driver names that build); Chrome's stable channel, a few majors behind, works too, while a
browser far from it fails in obscure ways (a missing protocol method, a page that never
loads). So the e2e tests first compare the two and, outside the range below, say what to do.

`python -m tests.support.chromium` prints where this machine stands (`make browser` runs it).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# Majors of Chromium around Playwright's own build that it drives: the stable channel trails
# the build Playwright ships by one to three majors; a newer browser keeps the protocol
# Playwright uses for a while.
OLDER = 4
NEWER = 2


def installed(path: Path = CHROMIUM) -> str | None:
    """The version of the Chromium at `path` (`156.0.8078.129`), or None if there is none."""
    if not path.is_file():
        return None
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\b(\d+(?:\.\d+){1,3})\b", out)
    return found.group(1) if found else None


def playwright_chromium() -> str:
    """The Chromium build the installed Playwright is made for (its driver's browsers.json)."""
    import playwright

    path = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    browsers = json.loads(path.read_text())["browsers"]
    return next(b["browserVersion"] for b in browsers if b["name"] == "chromium")


def supported_majors(built_for: str) -> range:
    major = int(built_for.split(".")[0])
    return range(major - OLDER, major + NEWER + 1)


def problem(path: Path = CHROMIUM) -> str | None:
    """None when the Chromium at `path` suits this Playwright; otherwise what is wrong, and
    what to do about it, in a sentence."""
    have = installed(path)
    if have is None:
        return (
            f"the e2e tests drive Debian's Chromium at {path}, which is not installed: "
            "run `sudo apt-get install -y chromium` (no `playwright install` needed)"
        )
    pinned = version("playwright")
    built_for = playwright_chromium()
    majors = supported_majors(built_for)
    major = int(have.split(".")[0])
    if major in majors:
        return None
    span = f"{majors.start}–{majors.stop - 1}"
    pin = (
        f"pin `playwright` in pyproject.toml's dev extra to a release built for Chromium "
        f"{major} (the `browsers.json` in its wheel's playwright/driver/package names it)"
    )
    if major < majors.start:
        fix = f"upgrade it (`sudo apt-get install --only-upgrade chromium`) or {pin}"
    else:
        fix = pin
    return (
        f"Chromium {have} at {path} is outside the majors {span} that Playwright {pinned} "
        f"(built for Chromium {built_for}) drives: {fix}, then run the tests again"
    )


def main() -> int:
    found = problem()
    if found:
        print(f"warning: {found}", file=sys.stderr)
    else:
        print(
            f"Chromium {installed()} suits Playwright {version('playwright')} "
            f"(built for Chromium {playwright_chromium()})"
        )
    return 0  # a note for `make browser`; the e2e tests are what refuse a mismatch


if __name__ == "__main__":
    sys.exit(main())
