"""Sign in with GitHub, through the real gateway, against a local stand-in for GitHub
(`tests/support/fake_github.py`): httpx plays the browser, following each redirect by hand
so every step can be checked (and tampered with).

This module's gateway is configured for GitHub (SIMTUNE_GITHUB_CLIENT_ID/SECRET, and
SIMTUNE_GITHUB_URL/SIMTUNE_GITHUB_API_URL pointing at the stand-in); the session's gateway
is not, and its sign-in page offers no GitHub button."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from contracts.accounts import ListUsers
from runtime.rpc import ask
from tests.support import fake_github
from tests.support.accounts import person
from tests.support.api import HTML
from tests.support.fake_github import GithubUser
from tests.support.gateway_at import gateway_at

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def github():
    async with fake_github.serving() as fake:
        yield fake


@pytest.fixture(scope="module")
async def gateway_url(servers, services, github) -> str:
    def settings_for(port: int):
        return servers.settings(
            SIMTUNE_PUBLIC_URL=f"http://127.0.0.1:{port}",
            SIMTUNE_GITHUB_CLIENT_ID=fake_github.CLIENT_ID,
            SIMTUNE_GITHUB_CLIENT_SECRET=fake_github.CLIENT_SECRET,
            SIMTUNE_GITHUB_URL=github.url,
            SIMTUNE_GITHUB_API_URL=github.url,
        )

    async with gateway_at(settings_for) as settings:
        yield settings.public_url


async def to_github(browser: httpx.AsyncClient) -> httpx.Response:
    """Press "Sign in with GitHub" and say yes at GitHub: GitHub's redirect back."""
    started = await browser.get("/signin/github?next=/account", headers=HTML)
    assert started.status_code == 303, started.text
    state_cookie = started.headers["set-cookie"].lower()
    assert "simtune_github_state=" in state_cookie and "httponly" in state_cookie
    at_github = await browser.get(started.headers["location"], headers=HTML)
    assert at_github.status_code == 302, at_github.text
    return at_github


async def test_a_person_with_an_account_signs_in_with_their_verified_github_address(
    stack, gateway_url, github, nc
):
    me = await person(nc)
    github.user = GithubUser.with_email(me.email.upper())  # case does not matter
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30.0) as browser:
        page = await browser.get("/signin", headers=HTML)
        assert "Sign in with GitHub" in page.text
        back = await to_github(browser)
        asked = github.authorized[-1]
        assert asked["redirect_uri"] == f"{gateway_url}/signin/github/callback"
        assert set(asked["scope"].split()) == {"read:user", "user:email"}
        done = await browser.get(back.headers["location"], headers=HTML)
        assert done.status_code == 303 and done.headers["location"] == "/account", done.text
        assert "httponly" in done.headers["set-cookie"].lower()
        who = await browser.get("/api/auth/me")
        assert who.status_code == 200 and who.json()["email"] == me.email
        sessions = (await browser.get("/api/auth/sessions")).json()["sessions"]
        assert [s["method"] for s in sessions if s["current"]] == ["github"]

    async with httpx.AsyncClient(base_url=stack.url, timeout=30.0) as elsewhere:
        page = await elsewhere.get("/signin", headers=HTML)
        assert page.status_code == 200 and "Sign in with GitHub" not in page.text
        assert (await elsewhere.get("/signin/github", headers=HTML)).status_code == 404


async def test_a_callback_whose_state_this_browser_did_not_start_is_refused(
    gateway_url, github, nc
):
    me = await person(nc)
    github.user = GithubUser.with_email(me.email)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30.0) as browser:
        back = urlsplit((await to_github(browser)).headers["location"])
        code = parse_qs(back.query)["code"][0]
        forged = await browser.get(
            f"{back.path}?code={code}&state=not-the-state-we-sent", headers=HTML
        )
        assert forged.status_code == 400 and "did not start in this browser" in forged.text
        assert "simtune_session" not in forged.headers.get("set-cookie", "")
        assert (await browser.get("/api/auth/me")).status_code == 401

    # a victim's browser handed the attacker's callback: it holds no state cookie
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30.0) as attacker:
        back = (await to_github(attacker)).headers["location"]
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30.0) as victim:
        planted = await victim.get(back, headers=HTML)
        assert planted.status_code == 400 and "did not start in this browser" in planted.text
        assert (await victim.get("/api/auth/me")).status_code == 401


async def test_an_unverified_primary_address_is_refused_even_beside_a_verified_one(
    gateway_url, github, nc
):
    me, other = await person(nc), await person(nc)
    github.user = GithubUser(
        id=77,
        login="someone",
        emails=[
            {"email": me.email, "primary": True, "verified": False},
            {"email": other.email, "primary": False, "verified": True},
        ],
    )
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30.0) as browser:
        back = await to_github(browser)
        refused = await browser.get(back.headers["location"], headers=HTML)
        assert refused.status_code == 403 and "no verified primary email" in refused.text
        assert (await browser.get("/api/auth/me")).status_code == 401


async def test_an_address_with_no_account_is_told_to_ask_for_an_invitation(gateway_url, github, nc):
    stranger = "nobody-here@simtune.test"
    github.user = GithubUser.with_email(stranger)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30.0) as browser:
        back = await to_github(browser)
        refused = await browser.get(back.headers["location"], headers=HTML)
        assert refused.status_code == 403
        assert stranger in refused.text and "invitation" in refused.text
        assert (await browser.get("/api/auth/me")).status_code == 401
    users = (await ask(nc, ListUsers())).users
    assert stranger not in {u.email for u in users}, "GitHub must never create an account"
