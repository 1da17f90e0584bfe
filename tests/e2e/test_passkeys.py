"""Passkeys in a real browser: Debian's Chromium, headless, with a virtual authenticator
(the DevTools protocol's WebAuthn domain: CTAP2, built in, resident keys, user verified), as
a laptop's fingerprint reader would be.

A person adds a passkey on the account page, then, in a browser profile that holds no
session (a fresh context, with the same authenticator's passkey in it), signs in with it
from the sign-in page. The browser opens the console as `localhost`, since a browser refuses
passkeys on an IP address: a gateway of this module's own serves there, with
SIMTUNE_PUBLIC_URL (so the relying party `localhost` and its origin) set to match.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.browser import UI_TIMEOUT_MS, skip_without_chromium
from tests.support.accounts import person, session_cookie
from tests.support.gateway_at import gateway_at

skip_without_chromium()

pytestmark = pytest.mark.e2e

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture(scope="module")
async def console_url(servers, services) -> AsyncIterator[str]:
    def settings_for(port: int):
        return servers.settings(SIMTUNE_PUBLIC_URL=f"http://localhost:{port}")

    async with gateway_at(settings_for) as settings:
        assert settings.rp_id == "localhost"
        yield settings.public_url


class Tab:
    """A tab with a virtual authenticator, failing the test on any error its page reports."""

    def __init__(self, context: BrowserContext, page: Page, cdp, authenticator_id: str) -> None:
        self.context, self.page, self.cdp = context, page, cdp
        self.authenticator_id = authenticator_id
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on(
            "console",
            lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )

    async def passkeys(self) -> list[dict]:
        found = await self.cdp.send(
            "WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id}
        )
        return found["credentials"]


async def open_tab(browser: Browser, url: str, cookies: dict[str, str] | None = None) -> Tab:
    context = await browser.new_context(base_url=url)
    context.set_default_timeout(UI_TIMEOUT_MS)
    if cookies:
        await context.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable", {"enableUI": False})
    added = await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return Tab(context, page, cdp, added["authenticatorId"])


async def test_add_a_passkey_then_sign_in_with_it_in_a_fresh_browser(browser, console_url, nc):
    me = await person(nc)

    # Signed in (a session cookie), the person adds a passkey on the account page.
    signed_in = await open_tab(browser, console_url, await session_cookie(nc, me.user_id))
    page = signed_in.page
    await page.goto("/account")
    await page.get_by_label("Passkey name").fill("Test laptop")
    await page.get_by_role("button", name="Add a passkey").click()
    await expect(page.locator("#passkeys")).to_contain_text("Test laptop")
    await expect(page.get_by_role("button", name="Remove the passkey Test laptop")).to_be_visible()
    held = await signed_in.passkeys()
    assert len(held) == 1 and held[0]["isResidentCredential"] and held[0]["rpId"] == "localhost"
    assert not signed_in.errors, signed_in.errors
    await signed_in.context.close()

    # A browser with no session, whose authenticator holds that passkey, signs in with it.
    fresh = await open_tab(browser, console_url)
    await fresh.cdp.send(
        "WebAuthn.addCredential",
        {"authenticatorId": fresh.authenticator_id, "credential": held[0]},
    )
    page = fresh.page
    await page.goto("/account")
    await expect(page).to_have_url(re.compile(r"/signin\?next="))
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await expect(page).to_have_url(re.compile(r"/account$"))
    await expect(page.get_by_text(f"Signed in as {me.email}")).to_be_visible()
    await expect(page.locator("#passkeys")).to_contain_text("Test laptop")
    cookies = {c["name"]: c for c in await fresh.context.cookies()}
    assert cookies["simtune_session"]["httpOnly"]
    [after] = await fresh.passkeys()
    assert after["signCount"] > held[0]["signCount"]
    assert not fresh.errors, fresh.errors
    await fresh.context.close()
