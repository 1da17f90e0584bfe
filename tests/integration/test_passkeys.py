"""Passkeys through the real gateway and accounts service, answered by a software
authenticator (`tests/support/passkey_authenticator.py`) so every refusal can be provoked:
the `webauthn` package verifies each answer as it would a browser's.

The session's gateway has the default relying party (`127.0.0.1`, origin
`http://127.0.0.1:8000`, from SIMTUNE_PUBLIC_URL); the browser itself is in
tests/e2e/test_passkeys.py."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from contracts.accounts import SESSION_COOKIE
from services.accounts.credentials import SCHEMA
from tests.support.accounts import person, session_cookie
from tests.support.api import ui_post
from tests.support.passkey_authenticator import Authenticator

pytestmark = pytest.mark.integration

ORIGIN = "http://127.0.0.1:8000"  # the default SIMTUNE_RP_ORIGIN
REGISTER = "/api/auth/passkeys/register"
SIGN_IN = "/api/auth/passkeys/signin"


async def console(stack, nc, who) -> httpx.AsyncClient:
    """A browser signed in to the console as `who`."""
    cookies = await session_cookie(nc, who.user_id)
    return httpx.AsyncClient(base_url=stack.url, timeout=30.0, cookies=cookies)


async def register(browser: httpx.AsyncClient, device: Authenticator, name: str = "laptop"):
    begun = await browser.post(f"{REGISTER}/begin")
    assert begun.status_code == 200, begun.text
    answer = device.create(begun.json()["options"])
    return await browser.post(
        f"{REGISTER}/finish",
        json={"challenge_id": begun.json()["challenge_id"], "credential": answer, "name": name},
    )


def signed_out(stack) -> httpx.AsyncClient:
    """A browser signed in as no one."""
    return httpx.AsyncClient(base_url=stack.url, timeout=30.0)


async def begin_sign_in(anyone: httpx.AsyncClient) -> dict:
    begun = await anyone.post(f"{SIGN_IN}/begin")
    assert begun.status_code == 200, begun.text
    return begun.json()


async def finish_sign_in(anyone: httpx.AsyncClient, begun: dict, credential: dict):
    body = {"challenge_id": begun["challenge_id"], "credential": credential}
    return await anyone.post(f"{SIGN_IN}/finish", json=body)


async def sign_in(anyone: httpx.AsyncClient, device: Authenticator, **answer):
    """Sign in with `device`'s passkey, its answer made with `answer` (another origin, a
    counter of its own)."""
    begun = await begin_sign_in(anyone)
    return await finish_sign_in(anyone, begun, device.get(begun["options"], **answer))


async def with_passkey(stack, nc) -> Authenticator:
    """The device of a new person who has registered a passkey on it in the console."""
    device = Authenticator(ORIGIN)
    async with await console(stack, nc, await person(nc)) as browser:
        assert (await register(browser, device)).status_code == 201
    return device


async def assert_refused(anyone: httpx.AsyncClient, answer: httpx.Response, status: int, why: str):
    """`answer` refused a sign-in (`status`, its detail saying `why`) and signed no one in."""
    assert answer.status_code == status and why in answer.json()["detail"], answer.text
    assert (await anyone.get("/api/auth/me")).status_code == 401


async def test_a_passkey_registered_in_the_console_signs_in_with_no_one_named(stack, nc):
    me = await person(nc)
    device = Authenticator(ORIGIN)
    async with await console(stack, nc, me) as browser:
        made = await register(browser, device, "work laptop")
        assert made.status_code == 201, made.text
        listed = (await browser.get("/api/auth/passkeys")).json()["passkeys"]
        assert [(p["id"], p["name"], p["transports"]) for p in listed] == [
            (made.json()["id"], "work laptop", ["internal"])
        ]

    async with signed_out(stack) as stranger:
        begun = await begin_sign_in(stranger)
        assert begun["options"]["allowCredentials"] == []  # discoverable: names no one
        assert begun["options"]["rpId"] == "127.0.0.1"
        signed = await finish_sign_in(stranger, begun, device.get(begun["options"]))
        assert signed.status_code == 200, signed.text
        assert signed.json()["email"] == me.email
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        who = await stranger.get("/api/auth/me")
        assert who.status_code == 200 and who.json()["email"] == me.email
        sessions = (await stranger.get("/api/auth/sessions")).json()["sessions"]
        assert [s["method"] for s in sessions if s["current"]] == ["passkey"]
        used = (await stranger.get("/api/auth/passkeys")).json()["passkeys"]
        assert used[0]["last_used_at"] is not None


async def test_a_challenge_works_once(stack, nc):
    me = await person(nc)
    device = Authenticator(ORIGIN)
    async with await console(stack, nc, me) as browser:
        begun = (await browser.post(f"{REGISTER}/begin")).json()
        answer = device.create(begun["options"])
        body = {"challenge_id": begun["challenge_id"], "credential": answer}
        assert (await browser.post(f"{REGISTER}/finish", json=body)).status_code == 201
        again = await browser.post(f"{REGISTER}/finish", json=body)
        assert again.status_code == 404 and "already used" in again.json()["detail"]

    async with signed_out(stack) as stranger:
        begun = await begin_sign_in(stranger)
        answer = device.get(begun["options"])
        assert (await finish_sign_in(stranger, begun, answer)).status_code == 200
        stranger.cookies.clear()
        replayed = await finish_sign_in(stranger, begun, answer)
        assert replayed.status_code == 404 and "already used" in replayed.json()["detail"]
        assert SESSION_COOKIE not in replayed.headers.get("set-cookie", "")


async def test_an_expired_challenge_is_refused(stack, nc):
    device = await with_passkey(stack, nc)
    async with signed_out(stack) as stranger:
        begun = await begin_sign_in(stranger)
        async with stack.hosts["accounts"].engine.begin() as conn:
            await conn.execute(
                text(
                    f"UPDATE {SCHEMA}.passkey_challenges"
                    " SET expires_at = now() - interval '1 second' WHERE id = :id"
                ),
                {"id": begun["challenge_id"]},
            )
        late = await finish_sign_in(stranger, begun, device.get(begun["options"]))
        await assert_refused(stranger, late, 404, "expired")


async def test_an_answer_made_for_another_origin_is_refused(stack, nc):
    me = await person(nc)
    device = Authenticator(ORIGIN)
    async with await console(stack, nc, me) as browser:
        begun = (await browser.post(f"{REGISTER}/begin")).json()
        forged = device.create(begun["options"], origin="https://evil.example")
        refused = await browser.post(
            f"{REGISTER}/finish", json={"challenge_id": begun["challenge_id"], "credential": forged}
        )
        assert refused.status_code == 400 and "origin" in refused.json()["detail"]
        assert (await browser.get("/api/auth/passkeys")).json()["passkeys"] == []
        assert (await register(browser, device)).status_code == 201

    async with signed_out(stack) as stranger:
        phished = await sign_in(stranger, device, origin="https://evil.example")
        await assert_refused(stranger, phished, 400, "origin")


async def test_a_cloned_authenticator_whose_counter_goes_back_is_refused(stack, nc):
    device = await with_passkey(stack, nc)
    async with signed_out(stack) as stranger:
        assert (await sign_in(stranger, device, sign_count=5)).status_code == 200
        stranger.cookies.clear()
        copy = await sign_in(stranger, device, sign_count=3)
        await assert_refused(stranger, copy, 400, "went backwards")


async def test_an_api_key_cannot_add_a_passkey(stack, nc):
    me = await person(nc)
    async with httpx.AsyncClient(base_url=stack.url, timeout=30.0, headers=me.headers) as api:
        refused = await api.post(f"{REGISTER}/begin")
        assert refused.status_code == 403 and "console" in refused.json()["detail"]
    async with signed_out(stack) as anonymous:
        assert (await anonymous.post(f"{REGISTER}/begin")).status_code == 401


async def test_a_removed_passkey_signs_no_one_in_and_is_only_its_owners_to_remove(stack, nc):
    me, other = await person(nc), await person(nc)
    device = Authenticator(ORIGIN)
    async with await console(stack, nc, me) as browser:
        made = await register(browser, device)
        passkey_id = made.json()["id"]
        async with await console(stack, nc, other) as theirs:
            refused = await theirs.delete(f"/api/auth/passkeys/{passkey_id}")
            assert refused.status_code == 404
        page = await browser.get("/account", headers={"Accept": "text/html"})
        assert f"/ui/account/passkeys/{passkey_id}/remove" in page.text
        removed = await ui_post(browser, f"/ui/account/passkeys/{passkey_id}/remove")
        assert removed.status_code == 303 and removed.headers["location"] == "/account"
        assert (await browser.get("/api/auth/passkeys")).json()["passkeys"] == []

    async with signed_out(stack) as stranger:
        gone = await sign_in(stranger, device)
        assert gone.status_code == 404 and "not registered" in gone.json()["detail"]
