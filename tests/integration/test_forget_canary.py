"""The canary: "delete my data" is true everywhere a byte can hide, on the real stack.

`make run`'s supervisor runs NATS, Postgres, every service and the gateway as processes in
a home of their own. Two members each put a canary string of their own everywhere a person
writes: a Markdown document (its name and text), a question, an edit of the answer, their
expert's style guide and a custom benchmark question. One of them deletes their data. Then
the bytes of every file under SIMTUNE_HOME are read — the NATS store (the log and the
objects), Postgres' data directory with its WAL, the adapter folders, the logs — and the
deleted member's canary is in none of them, while the other member's still is, their
expert still answers and finds their document, and every service's views rebuild from the
log (writing nothing of the deleted member back). The knowledge service is killed while the
services erase: the process the supervisor starts again carries its erasure out, and every
service says it erased once. Along the way: the install's last owner cannot delete their
own data, and a member cannot delete someone else."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import httpx
import pytest

from contracts.base import GetRebuildJob, RebuildJob, RebuildProjections
from contracts.erasure import AGGREGATE, INSTALL
from contracts.events import STREAMS
from runtime.eventstore import EventStore
from runtime.rpc import ask
from tests.support import devstack
from tests.support.accounts import Person, person
from tests.support.servers import admin_connect
from tests.support.tiny_llm import build_tiny_llm

pytestmark = [pytest.mark.integration, pytest.mark.slow]

READ_BLOCK = 8 << 20


def canary(tag: str) -> str:
    return f"zq-{tag}-{uuid.uuid4().hex[:10]}"


def files_holding(home: Path, needle: bytes) -> list[str]:
    """Every file under `home` whose bytes hold `needle` (read in blocks that overlap by the
    needle's length, so no occurrence falls between two), named relative to `home`."""
    found = []
    for folder, _, names in os.walk(home):
        for name in names:
            path = Path(folder) / name
            try:
                if not path.is_file() or path.is_symlink():
                    continue
                with path.open("rb") as file:
                    tail = b""
                    while block := file.read(READ_BLOCK):
                        if needle in tail + block:
                            found.append(str(path.relative_to(home)))
                            break
                        tail = block[-len(needle) :]
            except (FileNotFoundError, PermissionError):
                continue  # gone while walking, or a socket
    return found


def named(stack, found: list[str]) -> list[str]:
    """`found`, with the relation each Postgres data file holds (`pg/data/base/<db>/<node>`)."""
    nodes = {f: f.rsplit("/", 1)[-1].split(".")[0] for f in found if "/base/" in f}
    if not nodes:
        return found
    numbers = ",".join(n for n in set(nodes.values()) if n.isdigit()) or "0"
    rows = stack.postgres.psql(
        stack.postgres.database,
        "SELECT pg_relation_filenode(c.oid) || ' ' || n.nspname || '.' || c.relname"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        f" WHERE pg_relation_filenode(c.oid) IN ({numbers})",
    )
    names = dict(line.split(" ", 1) for line in rows.splitlines() if " " in line)
    return [f"{f} ({names.get(nodes[f], 'no relation now')})" if f in nodes else f for f in found]


def rows_of(stack, tenant: str) -> list[str]:
    """The tables (with a `tenant` column) that still hold rows of `tenant`: why a file did."""
    tables = stack.postgres.psql(
        stack.postgres.database,
        "SELECT table_schema || '.' || table_name FROM information_schema.columns"
        " WHERE column_name = 'tenant' AND table_schema NOT IN ('keyring')",
    ).split()
    held = []
    for table in tables:
        count = stack.postgres.psql(
            stack.postgres.database, f"SELECT count(*) FROM {table} WHERE tenant = '{tenant}'"
        ).strip()
        if count not in ("", "0"):
            held.append(f"{table}: {count} rows")
    return held


def erasure_lines(stack) -> list[str]:
    return [line for line in devstack.stack_log(stack).splitlines() if "erasure" in line][-40:]


class Member:
    """A member of the install who writes `mark` everywhere a person writes."""

    def __init__(self, stack, who: Person, mark: str) -> None:
        self.who, self.mark = who, mark
        self.api = httpx.AsyncClient(base_url=stack.base_url, timeout=120.0, headers=who.headers)
        self.expert = self.document = ""

    async def write_everywhere(self) -> None:
        api, mark = self.api, self.mark
        profile = {
            "name": f"Expert of {mark}",
            "description": f"Knows {mark}",
            "style_guide": {"tone": f"as {mark} would", "do": [f"mention {mark}"]},
        }
        made = await api.post("/api/experts", json=profile)
        assert made.status_code == 201, made.text
        self.expert = made.json()["id"]

        text = f"# Notes on {mark}\n\n" + f"The word {mark} names a kind of tide.\n\n" * 20
        files = [("file", (f"notes-{mark}.md", text.encode(), "text/markdown"))]
        sent = await api.post(f"/api/experts/{self.expert}/documents", files=files)
        assert sent.status_code == 202, sent.text
        self.document = sent.json()["documents"][0]["id"]
        assert (await devstack.document_settled(api, self.document))["status"] == "ready"

        asked = await api.post(
            f"/api/experts/{self.expert}/ask",
            json={"question": f"What does {mark} name?", "max_tokens": 8},
        )
        assert asked.status_code == 200, asked.text
        answer_id = asked.json()["answer_id"]
        edit = {"rating": 4, "edited_answer": f"{mark} names a kind of tide."}

        async def edited() -> bool:  # a 409 (the answer scored meanwhile) asks to retry
            sent = await api.post(f"/api/answers/{answer_id}/feedback", json=edit)
            assert sent.status_code in (201, 409), sent.text
            return sent.status_code == 201

        await devstack.until(edited, "the edit given", timeout=60.0)

        question = [{"question": f"Which tide is {mark}?", "reference": f"{mark} is a tide."}]
        added = await api.post(f"/api/benchmark/questions?expert_id={self.expert}", json=question)
        assert added.status_code == 201, added.text

    async def still_works(self) -> None:
        api = self.api
        expert = await api.get(f"/api/experts/{self.expert}")
        assert expert.status_code == 200 and self.mark in expert.text
        doc = await api.get(f"/api/documents/{self.document}")
        assert doc.status_code == 200 and doc.json()["status"] == "ready"
        asked = await api.post(
            f"/api/experts/{self.expert}/ask",
            json={"question": f"Tell me about {self.mark}.", "max_tokens": 8},
        )
        assert asked.status_code == 200, asked.text
        found = await api.get(f"/api/experts/{self.expert}/search", params={"q": self.mark})
        assert found.status_code == 200, found.text
        assert [hit["document_id"] for hit in found.json()["results"]][:1] == [self.document]


async def erasure_events(stack, tenant: str) -> dict[str, list[str]]:
    """Each context's events on the install's erasure aggregate of `tenant`, by type."""
    nc = await admin_connect(stack.nats.url, stack.home)
    try:
        store, found = EventStore(nc.jetstream()), {}
        for context in sorted(STREAMS):
            events, _ = await store.load(context, INSTALL, AGGREGATE, tenant)
            found[context] = [rec.type.split(".")[-1] for rec in events]
        return found
    finally:
        await nc.close()


async def forgotten(stack, tenant: str) -> bool:
    return "UserForgotten" in (await erasure_events(stack, tenant))["accounts"]


async def erased_once(stack, tenant: str) -> bool:
    events = await erasure_events(stack, tenant)
    assert events["accounts"] == ["UserForgotten", "TenantErased"], events
    for context in sorted(STREAMS):
        assert events[context].count("TenantErased") == 1, events
    return True


async def erasure_complete(owner: httpx.AsyncClient, user_id: str) -> dict:
    async def complete() -> dict | None:
        listed = (await owner.get("/api/admin/erasures")).json()["erasures"]
        found = [e for e in listed if e["user_id"] == user_id]
        return found[0] if found and found[0]["complete"] else None

    return await devstack.until(complete, "every service erased its part", timeout=240.0)


async def rebuilt(owner: httpx.AsyncClient, service: str) -> None:
    started = await owner.post(f"/api/admin/projections/{service}/rebuild")
    assert started.status_code == 202, started.text
    job = started.json()["id"]

    async def done() -> dict | None:
        state = (await owner.get(f"/api/admin/projections/{service}/rebuild/{job}")).json()
        assert state["state"] != "failed", state
        return state if state["state"] == "done" else None

    await devstack.until(done, f"{service}'s views rebuilt", timeout=240.0)


async def accounts_rebuilt(stack) -> None:
    """The accounts service's views rebuilt too (asked over NATS, as the gateway offers
    only the others)."""
    nc = await admin_connect(stack.nats.url, stack.home)
    try:
        job = await ask(nc, RebuildProjections(), context="accounts")

        async def done() -> RebuildJob | None:
            state = await ask(nc, GetRebuildJob(job_id=job.id), context="accounts")
            assert state.state != "failed", state
            return state if state.state == "done" else None

        await devstack.until(done, "the accounts views rebuilt", timeout=240.0)
    finally:
        await nc.close()


@pytest.mark.timeout(1500)
async def test_a_deleted_members_canary_is_found_in_no_file_and_the_others_still_is(
    tmp_path_factory,
):
    model = build_tiny_llm(tmp_path_factory.mktemp("canary-llm"))
    async with devstack.running_stack(
        "simtune-canary-", {"SIMTUNE_BASE_MODEL": str(model)}
    ) as stack:
        home = stack.home
        # a WAL segment past its checkpoint is removed, not reused with old rows inside
        assert stack.postgres.psql(stack.postgres.database, "SHOW wal_recycle").strip() == "off"
        nc = await admin_connect(stack.nats.url, home)
        try:
            gone = Member(stack, await person(nc), canary("gone"))
            kept = Member(stack, await person(nc), canary("kept"))
        finally:
            await nc.close()
        owner = httpx.AsyncClient(
            base_url=stack.base_url, timeout=120.0, headers=stack.owner.headers
        )
        try:
            # the last owner stays, and a member deletes no one else
            last = await owner.request("DELETE", "/api/me", json={"confirm": stack.owner.email})
            assert last.status_code == 409 and "last owner" in last.text, last.text
            other = await kept.api.request(
                "DELETE", f"/api/admin/users/{gone.who.user_id}", json={"confirm": gone.who.email}
            )
            assert other.status_code == 403, other.text

            await gone.write_everywhere()
            await kept.write_everywhere()
            assert files_holding(home, gone.mark.encode()), "the canary was never written"

            # the knowledge service is killed while the services erase: its erasure is
            # delivered again to the process the supervisor starts, and said once
            deleting = asyncio.create_task(
                gone.api.request("DELETE", "/api/me", json={"confirm": gone.who.email})
            )
            await devstack.until(lambda: forgotten(stack, gone.who.tenant), "the deletion decided")
            old = devstack.child_pid(stack, "knowledge")
            devstack.kill(old)
            await devstack.restarted(stack, "knowledge", old)
            deleted = await deleting
            assert deleted.status_code in (200, 202), deleted.text
            report = await erasure_complete(owner, gone.who.user_id)
            assert sorted(p["context"] for p in report["parts"]) == sorted(STREAMS)
            assert await erased_once(stack, gone.who.tenant)
            assert gone.mark not in deleted.text + str(report)
            assert (await gone.api.get("/api/auth/me")).status_code == 401

            left = named(stack, files_holding(home, gone.mark.encode()))
            assert not left, (left, rows_of(stack, gone.who.tenant), erasure_lines(stack))
            assert files_holding(home, kept.mark.encode())
            await kept.still_works()

            for service in sorted(set(STREAMS) - {"accounts"}):
                await rebuilt(owner, service)
            await accounts_rebuilt(stack)
            await kept.still_works()
            left = named(stack, files_holding(home, gone.mark.encode()))
            assert not left, (left, rows_of(stack, gone.who.tenant), erasure_lines(stack))
        finally:
            for client in (owner, gone.api, kept.api):
                await client.aclose()
