"""A first `make run`: nobody has an account, the supervisor prints a one-time setup link,
and whoever opens it creates the owner's account and is signed in; the link then does
nothing more. The whole stack runs as real processes, as `make run` starts it."""

from __future__ import annotations

import re
import stat

import httpx
import pytest

from tests.support.api import HTML
from tests.support.devstack import running_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LINK = re.compile(r"(http://\S+/setup\?token=[A-Za-z0-9_-]+)")


async def claim(browser: httpx.AsyncClient, token: str, email: str) -> httpx.Response:
    """The setup page's form, sent as the browser sends it (with its CSRF cookie's token)."""
    form = {"token": token, "email": email, "_csrf": browser.cookies["simtune_csrf"]}
    return await browser.post("/ui/setup", data=form, headers=HTML)


async def test_the_printed_setup_link_makes_its_opener_the_owner_once():
    async with running_stack("simtune-first-", {}, with_owner=False) as stack:
        printed = LINK.search(stack.output.getvalue())
        assert printed, stack.output.getvalue()[-2000:]
        saved = stack.home / "setup-link.txt"
        assert saved.read_text().strip() == printed.group(1)
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        path = printed.group(1).split("/", 3)[3]  # the link names SIMTUNE_PUBLIC_URL's host

        async with httpx.AsyncClient(base_url=stack.base_url, timeout=30.0) as browser:
            waiting = await browser.get("/signin", headers=HTML)
            assert "setup link" in waiting.text

            form = await browser.get(f"/{path}", headers=HTML)
            assert form.status_code == 200 and "Create the owner" in form.text
            token = re.search(r'name="token" value="([^"]+)"', form.text).group(1)
            claimed = await claim(browser, token, "Me@Example.org")
            assert claimed.status_code == 303, claimed.text
            me = await browser.get("/api/auth/me")
            assert me.json()["role"] == "owner" and me.json()["email"] == "me@example.org"
            assert not saved.exists()

            browser.cookies.clear()
            again = await browser.get(f"/{path}", headers=HTML)
            assert "Simtune is set up" in again.text and 'action="/ui/setup"' not in again.text
            await browser.get("/signin", headers=HTML)  # a CSRF cookie for the form
            refused = await claim(browser, token, "late@example.org")
            assert refused.status_code == 303 and "error=" in refused.headers["location"]
            assert (await browser.get("/api/auth/me")).status_code == 401
