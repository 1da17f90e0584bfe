"""Signing in, as the gateway sees it: API keys made, listed and revoked; what a read-only key
and a member may not do; the audit trail naming the person; the console's sign-in by email
link and its session cookie."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.accounts import owner, person
from tests.support.adapters import import_archive, lora_folder, tar_gz
from tests.support.api import HTML, csrf_token, new_expert

pytestmark = pytest.mark.integration


async def test_a_key_is_shown_once_listed_without_itself_and_refused_once_revoked(stack, nc):
    me = await person(nc)
    async with httpx.AsyncClient(base_url=stack.url, timeout=30.0, headers=me.headers) as api:
        made = await api.post("/api/auth/api-keys", json={"name": "laptop", "expires_in_days": 30})
        assert made.status_code == 201, made.text
        key = made.json()
        assert key["key"].startswith("sk-sim-") and key["key"].startswith(key["prefix"])
        assert key["expires_at"] is not None

        listed = (await api.get("/api/auth/api-keys")).json()["keys"]
        assert [k["name"] for k in listed if k["id"] == key["id"]] == ["laptop"]
        assert key["key"] not in str(listed)

        with_new = {"Authorization": f"Bearer {key['key']}"}
        me_again = await api.get("/api/auth/me", headers=with_new)
        assert me_again.json()["email"] == me.email

        assert (await api.delete(f"/api/auth/api-keys/{key['id']}")).status_code == 204
        refused = await api.get("/api/experts", headers=with_new)
        assert refused.status_code == 401


async def test_a_read_only_key_reads_and_changes_nothing(stack, nc):
    me = await person(nc)
    async with httpx.AsyncClient(base_url=stack.url, timeout=30.0, headers=me.headers) as api:
        made = await api.post("/api/auth/api-keys", json={"name": "viewer", "scopes": ["read"]})
        viewer = {"Authorization": f"Bearer {made.json()['key']}"}
        assert (await api.get("/api/experts", headers=viewer)).status_code == 200
        refused = await api.post("/api/experts", json={"name": "Nope"}, headers=viewer)
        assert refused.status_code == 403
        assert "write" in refused.json()["detail"]
        assert (await api.get("/api/experts")).json() == []


async def test_a_member_cannot_reach_the_owners_routes_nor_mint_an_admin_key(stack, nc):
    member = await person(nc)
    async with httpx.AsyncClient(base_url=stack.url, timeout=30.0, headers=member.headers) as api:
        for method, url in [
            ("GET", "/api/admin/users"),
            ("POST", "/api/admin/users"),
            ("GET", "/api/admin/projections"),
            ("GET", "/admin/users"),
        ]:
            response = await api.request(method, url, json={"email": "x@simtune.test"})
            assert response.status_code == 403, (method, url, response.text)
        admin = await api.post("/api/auth/api-keys", json={"name": "root", "scopes": ["admin"]})
        assert admin.status_code == 400, admin.text


async def test_the_owner_adds_and_removes_a_person_whose_key_then_stops(stack, nc):
    boss = await owner(nc)
    async with httpx.AsyncClient(base_url=stack.url, timeout=30.0, headers=boss.headers) as api:
        added = await api.post(
            "/api/admin/users", json={"email": "new.person@simtune.test", "api_key": True}
        )
        assert added.status_code == 201, added.text
        theirs = {"Authorization": f"Bearer {added.json()['api_key']}"}
        assert (await api.get("/api/auth/me", headers=theirs)).json()["role"] == "member"
        again = await api.post("/api/admin/users", json={"email": "new.person@simtune.test"})
        assert again.status_code == 409

        removed = await api.delete(f"/api/admin/users/{added.json()['user_id']}")
        assert removed.status_code == 204
        assert (await api.get("/api/auth/me", headers=theirs)).status_code == 401


async def test_the_audit_trail_names_the_person_and_their_key(stack, servers, nc, tmp_path):
    me = await person(nc, "auditor@simtune.test")
    async with httpx.AsyncClient(base_url=stack.url, timeout=60.0, headers=me.headers) as api:
        expert = await new_expert(api)
        folder = lora_folder(servers.base_model, tmp_path / "lora", seed=5)
        imported = await import_archive(api, expert["id"], tar_gz(folder))
        adapter_id = imported.json()["id"]
        tagged = await api.post(f"/api/lora/{adapter_id}/tag", json={"add": ["candidate"]})
        assert tagged.status_code == 200, tagged.text
        audit = await api.get("/api/lora/audit", params={"expert_id": expert["id"]})
        actors = {entry["by"] for entry in audit.json()}
        assert actors and all(a.startswith("auditor@simtune.test") for a in actors), actors
        # a header naming someone else changes nothing
        forged = {"X-Simtune-Actor": "somebody-else"}
        await api.post(f"/api/lora/{adapter_id}/tag", json={"add": ["x1"]}, headers=forged)
        audit = await api.get("/api/lora/audit", params={"expert_id": expert["id"]})
        assert "somebody-else" not in audit.text


async def test_signing_in_by_email_link_gives_a_session_cookie_once(stack, nc, caplog):
    me = await person(nc, "reader@simtune.test")
    async with httpx.AsyncClient(base_url=stack.url, timeout=30.0) as browser:
        signin = await browser.get("/signin", headers=HTML)
        assert signin.status_code == 200
        token = await csrf_token(browser)
        with caplog.at_level("WARNING"):
            sent = await browser.post(
                "/ui/signin/email",
                data={"email": me.email, "next": "/account", "_csrf": token},
                headers=HTML,
            )
        assert sent.status_code == 303
        assert "sent=log" in sent.headers["location"]
        link = re.search(r"(/signin/email\?\S+token=[A-Za-z0-9_-]+)", caplog.text)
        assert link, "the link is in the server's log when no SMTP server is set"

        opened = await browser.get(link.group(1), headers=HTML)
        assert opened.status_code == 303 and opened.headers["location"] == "/account"
        cookie = opened.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        account = await browser.get("/account", headers=HTML)
        assert account.status_code == 200 and me.email in account.text

        browser.cookies.clear()
        reused = await browser.get(link.group(1), headers=HTML)
        assert reused.status_code == 303 and reused.headers["location"].startswith("/signin")
