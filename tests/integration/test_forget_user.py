""" "Delete my data" through the gateway, with every service running in this process: a
confirmation that is not the account's address deletes nothing; a member cannot delete
anyone else (not found, as for a missing person); an owner deletes a member and a person
deletes themselves, and each time every service says what it removed (counts, never
content), the person's keys stop working at once and the owner's audit lists who, when and
how much. Asking again answers the same report and appends nothing twice. A poison
UserForgotten costs only itself, and every view rebuilt after a forget equals the live one."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import text

from contracts.accounts import ForgetUser, UserForgotten, Whois
from contracts.base import DomainError
from contracts.erasure import AGGREGATE, INSTALL, TenantErased
from contracts.events import STREAMS
from contracts.expert import CreateExpert, Profile
from runtime import headers as H
from runtime.codec import encode
from runtime.erasure import TenantErasure
from runtime.eventstore import EventStore
from runtime.reactor import Reactor
from runtime.rpc import ask
from tests.integration.test_cli import Simtune
from tests.support.accounts import person, session_cookie
from tests.support.api import HTML, csrf_token, new_expert
from tests.support.views import snapshot

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

CONTEXTS = sorted(STREAMS)


def client(stack, who) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.url, timeout=90.0, headers=who.headers)


async def erased_events(nc, tenant: str) -> dict[str, list]:
    """Every context's UserForgotten and TenantErased of `tenant`, by context."""
    store, found = EventStore(nc.jetstream()), {}
    for context in CONTEXTS:
        events, _ = await store.load(context, INSTALL, AGGREGATE, tenant)
        found[context] = [rec.event for rec in events]
    return found


async def deleted_after_making_an_expert(stack, nc, expert_name: str):
    """A new member who makes an expert named `expert_name`, then deletes their data (with
    their address as the confirmation); returns that person."""
    member = await person(nc)
    async with client(stack, member) as api:
        await new_expert(api, name=expert_name)
        done = await api.request("DELETE", "/api/me", json={"confirm": member.email})
        assert done.status_code == 200, done.text
    return member


async def test_a_confirmation_that_is_not_the_address_deletes_nothing(stack, nc):
    member = await person(nc)
    async with client(stack, member) as api:
        expert = (await new_expert(api, name="Kept"))["id"]
        for body in ({"confirm": "someone-else@example.org"}, {"confirm": "not an address"}, {}):
            refused = await api.request("DELETE", "/api/me", json=body)
            assert refused.status_code == 400, refused.text
            assert "nothing was deleted" in refused.text or "confirm" in refused.text
        assert (await api.get("/api/auth/me")).status_code == 200
        assert (await api.get(f"/api/experts/{expert}")).status_code == 200
    assert (await erased_events(nc, member.tenant))["accounts"] == []


async def test_a_member_cannot_delete_another_person(stack, nc):
    member, other = await person(nc), await person(nc)
    async with client(stack, member) as api:
        refused = await api.request(
            "DELETE", f"/api/admin/users/{other.user_id}", json={"confirm": other.email}
        )
        assert refused.status_code == 403, refused.text
    with pytest.raises(DomainError) as denied:  # the service itself: as for a missing person
        await ask(
            nc,
            ForgetUser(user_id=other.user_id, confirm=other.email, by_user=member.user_id),
            timeout=45.0,
        )
    assert denied.value.code == "not_found"
    assert (await ask(nc, Whois(credential=other.key))).user_id == other.user_id


async def test_an_owner_deletes_a_member_and_the_audit_says_who_when_and_how_much(stack, nc):
    member = await person(nc)
    async with client(stack, member) as api:
        await new_expert(api, name="Soon gone")
    async with client(stack, stack.owner) as api:
        wrong = await api.request(
            "DELETE", f"/api/admin/users/{member.user_id}", json={"confirm": stack.owner.email}
        )
        assert wrong.status_code == 400, wrong.text
        done = await api.request(
            "DELETE", f"/api/admin/users/{member.user_id}", json={"confirm": member.email}
        )
        assert done.status_code == 200, done.text
        report = done.json()
        assert report["complete"] and report["pending"] == []
        assert sorted(p["context"] for p in report["parts"]) == CONTEXTS
        assert report["by"].startswith(stack.owner.email)  # the actor, as the audit names it
        expert_part = next(p for p in report["parts"] if p["context"] == "expert")
        assert expert_part["rows"] >= 1  # the expert's row
        with pytest.raises(DomainError):  # their key stopped working with them
            await ask(nc, Whois(credential=member.key))

        audit = (await api.get("/api/admin/erasures")).json()["erasures"]
        mine = [e for e in audit if e["user_id"] == member.user_id]
        assert len(mine) == 1 and mine[0]["complete"]
        assert member.email not in str(audit)  # who asked, when, counts: never the person

        listed = (await api.get("/api/admin/users")).json()["users"]
        assert member.user_id not in [u["user_id"] for u in listed]


async def test_a_person_deletes_themselves_once_however_often_it_is_asked(stack, nc):
    me = await person(nc)
    async with client(stack, me) as api:
        await new_expert(api, name="Mine")
        done = await api.request("DELETE", "/api/me", json={"confirm": me.email.upper()})
        assert done.status_code == 200, done.text
        assert done.json()["by"] == "self" and done.json()["complete"]
        assert 'simtune_session=""' in done.headers.get("set-cookie", "")
        assert (await api.get("/api/auth/me")).status_code == 401
    again = await ask(
        nc, ForgetUser(user_id=me.user_id, confirm=me.email, by_user=me.user_id), timeout=45.0
    )
    assert again.complete and again.seq == done.json()["seq"]
    events = await erased_events(nc, me.tenant)
    assert [type(e) for e in events["accounts"]] == [UserForgotten, TenantErased]
    for context in CONTEXTS:
        assert [type(e) for e in events[context] if isinstance(e, TenantErased)] == [
            TenantErased
        ], context


async def test_a_person_whose_data_was_deleted_can_come_back_as_someone_new(stack, nc):
    before = await deleted_after_making_an_expert(stack, nc, "From my first life")
    again = await person(nc, before.email)  # the owner invites the same address again
    assert again.user_id != before.user_id and again.tenant != before.tenant
    async with client(stack, again) as api:
        assert (await api.get("/api/experts")).json() == []  # nothing of before
        made = await new_expert(api, name="A fresh start")
        assert (await api.get(f"/api/experts/{made['id']}")).status_code == 200
    with pytest.raises(DomainError):
        await ask(nc, Whois(credential=before.key))


@pytest.fixture
async def forgets(nc):
    """A stream of its own carrying UserForgotten-like messages, and `publish(data, tenant)`."""
    context = "fg" + uuid.uuid4().hex[:12]
    js = nc.jetstream()
    await js.add_stream(name=context.upper(), subjects=[f"evt.{context}.>"])

    async def publish(data: bytes, key: str) -> None:
        headers = {H.EVENT_ID: str(uuid.uuid4()), H.EVENT_TYPE: "accounts.UserForgotten",
                   H.TENANT: INSTALL}  # fmt: skip
        await js.publish(f"evt.{context}.{INSTALL}.{AGGREGATE}.{key}", data, headers=headers)

    yield context.upper(), publish
    await js.delete_stream(context.upper())


async def test_a_poison_forget_costs_only_itself(stack, nc, forgets):
    """An invalid UserForgotten is held; the erasure behind it is carried out at once, and
    a redelivery of it appends nothing twice."""
    stream, publish = forgets
    host = stack.hosts["expert"]
    # A tenant with no account: this test's reactor forgets it behind the accounts service's
    # back, which a real person's account view would rightly not follow.
    tenant = "t" + uuid.uuid4().hex[:12]
    made = CreateExpert(tenant=tenant, profile=Profile(name="Erased by a test reactor"))
    await ask(nc, made)
    reactor = Reactor(nc, f"test.{stream}.erasure", stream, TenantErasure(host).react,
                      max_deliver=2, hold_s=1.0)  # fmt: skip
    await reactor.start()
    try:
        await publish(b'{"type": "accounts.UserForgotten", "user_id": "no~one"}', "poison")
        forgotten = UserForgotten(user_id=tenant, tenant=tenant, by="tests",
                                  requested_at="2026-12-07T13:00:00+00:00")  # fmt: skip
        for _ in range(2):  # the second: a redelivery, as after a crash
            await publish(encode(forgotten), tenant)

        async def erased() -> bool:
            async with host.engine.connect() as conn:
                left = await conn.scalar(
                    text("SELECT count(*) FROM expert.experts WHERE tenant = :t"),
                    {"t": tenant},
                )
            events = (await erased_events(nc, tenant))["expert"]
            return left == 0 and len(events) == 1

        deadline = asyncio.get_running_loop().time() + 60
        while not await erased():
            assert asyncio.get_running_loop().time() < deadline, "the erasure did not happen"
            await asyncio.sleep(0.2)
        info = await nc.jetstream().consumer_info(stream, reactor.durable)
        assert info.num_pending == 0  # the queue went on past the poison
        assert reactor.health()["state"] == "running"
        erased_event = (await erased_events(nc, tenant))["expert"][0]
        assert erased_event.rows >= 1 and erased_event.context == "expert"
    finally:
        await reactor.stop()


async def test_every_view_rebuilt_after_a_forget_equals_the_live_one(stack, nc):
    await deleted_after_making_an_expert(stack, nc, "Replayed")
    for context, host in stack.hosts.items():
        await host.wait_caught_up()
        live = await snapshot(host)
        await host.rebuild()
        assert await snapshot(host) == live, context


async def test_simtune_account_delete_asks_for_the_address_and_prints_the_report(stack, nc):
    me = await person(nc)
    simtune = Simtune(stack.url, me.key)
    refused = await simtune("account", "delete", input="someone@example.org\n")
    assert refused.exit_code != 0 and "nothing was deleted" in refused.stderr
    assert (await simtune("account", "delete", "--yes")).exit_code != 0  # --yes needs --confirm
    assert (await ask(nc, Whois(credential=me.key))).user_id == me.user_id

    deleted = await simtune("account", "delete", input=f"{me.email}\n")
    assert deleted.exit_code == 0, deleted.stderr
    assert f"Deleted the data of {me.email}" in deleted.stdout
    assert "Every service has erased its part" in deleted.stdout
    for context in CONTEXTS:
        assert context in deleted.stdout
    with pytest.raises(DomainError):
        await ask(nc, Whois(credential=me.key))


async def test_the_console_deletes_my_data_after_a_typed_confirmation(stack, nc):
    me = await person(nc)
    cookies = await session_cookie(nc, me.user_id)
    async with httpx.AsyncClient(base_url=stack.url, timeout=90.0, cookies=cookies) as browser:
        token = await csrf_token(browser)
        page = await browser.get("/account", headers=HTML)
        assert "Delete my data" in page.text and 'action="/ui/account/delete"' in page.text

        wrong = await browser.post(
            "/ui/account/delete", data={"confirm": "nobody@example.org", "_csrf": token},
            headers=HTML,
        )  # fmt: skip
        assert wrong.status_code == 303 and "error=" in wrong.headers["location"]
        assert (await browser.get("/api/auth/me")).status_code == 200

        done = await browser.post(
            "/ui/account/delete", data={"confirm": me.email, "_csrf": token}, headers=HTML
        )
        assert done.status_code == 200, done.text
        assert "Your data was deleted" in done.text and "registry" in done.text
        assert (await browser.get("/api/auth/me")).status_code == 401

    async with client(stack, stack.owner) as api:
        people = await api.get("/admin/users", headers=HTML)
        assert "Deleted data" in people.text and me.email not in people.text


def pg_files_holding(home, needle: bytes) -> list[str]:
    """The files of the session's Postgres (data and WAL) that hold `needle`."""
    found = []
    for path in (home / "pg").rglob("*"):
        try:
            if path.is_file() and needle in path.read_bytes():
                found.append(str(path.relative_to(home)))
        except (FileNotFoundError, PermissionError):
            continue
    return found


async def test_a_deleted_expert_leaves_no_copy_in_the_database_files(stack, nc):
    """An expert deleted: the rows its services drop (its profile, its documents' names and
    passages) are rewritten away and the WAL moves on, so its text is in no file of the
    database, not only in no view."""
    member, mark = await person(nc), f"zq-expert-{uuid.uuid4().hex[:10]}"
    home = stack.settings.home
    async with client(stack, member) as api:
        expert = (await new_expert(api, name=f"Expert {mark}", description=mark))["id"]
        text_file = (f"notes-{mark}.md", f"# {mark}\n\nThe {mark} is a tide.\n".encode())
        sent = await api.post(
            f"/api/experts/{expert}/documents",
            files=[("file", (*text_file, "text/markdown"))],
        )
        assert sent.status_code == 202, sent.text
        document = sent.json()["documents"][0]["id"]

        async def ready() -> bool:
            return (await api.get(f"/api/documents/{document}")).json()["status"] == "ready"

        deadline = asyncio.get_running_loop().time() + 120
        while not await ready():
            assert asyncio.get_running_loop().time() < deadline, "the document never got ready"
            await asyncio.sleep(0.2)
        assert await asyncio.to_thread(pg_files_holding, home, mark.encode())
        assert (await api.delete(f"/api/experts/{expert}")).status_code in (202, 204)

    deadline = asyncio.get_running_loop().time() + 180
    while left := await asyncio.to_thread(pg_files_holding, home, mark.encode()):
        assert asyncio.get_running_loop().time() < deadline, left
        await asyncio.sleep(1.0)
