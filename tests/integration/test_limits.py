"""Limits per address and per person, on the real stack.

Per address (a second gateway with small limits; the session's own has them off, every test
coming from 127.0.0.1): sign-in attempts, and credentials nobody owns, refused with 429 and
Retry-After in each caller's language. Per person (the owning service restarted with a small
cap): storage, answers in progress and training runs, each refusal naming its limit and
setting, while another person goes on as before.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import msgspec
import pytest

from contracts.answers import ConfigureBackend
from contracts.base import Accepted
from contracts.expert import CreateExpert, Profile
from contracts.ingest import DOCUMENTS_BUCKET
from runtime.rpc import request
from tests.support import training
from tests.support.accounts import person
from tests.support.gateway_at import gateway_at
from tests.support.inprocess import start_service
from tests.support.objects import sealed_objects
from tests.support.scripted_llm import ScriptedLLM, serving
from tests.support.waiting import until

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}


@asynccontextmanager
async def small_gateway(servers, **env: str) -> AsyncIterator[httpx.AsyncClient]:
    """A second gateway with `env`, served as `python -m gateway` serves it."""

    def settings_for(port: int):
        return servers.settings(SIMTUNE_PUBLIC_URL=f"http://127.0.0.1:{port}", **env)

    async with (
        gateway_at(settings_for) as settings,
        httpx.AsyncClient(base_url=settings.public_url, timeout=30.0) as client,
    ):
        yield client


def assert_limited(response: httpx.Response, setting: str) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["error"] == "rate_limited" and setting in body["detail"], body


async def test_sign_in_attempts_are_limited_per_address_in_each_callers_language(servers, services):
    async with small_gateway(servers, SIMTUNE_SIGNIN_ATTEMPTS_PER_IP="3") as gateway:
        for n in range(3):  # a made-up X-Forwarded-For changes nothing: no proxy is trusted
            sent = await gateway.post(
                "/api/auth/signin/email",
                json={"email": f"nobody-{n}@simtune.test"},
                headers={"X-Forwarded-For": f"192.0.2.{n}"},
            )
            assert sent.status_code == 202, sent.text
        refused = await gateway.post(
            "/api/auth/signin/email",
            json={"email": "nobody-9@simtune.test"},
            headers={"X-Forwarded-For": "192.0.2.99"},
        )
        assert_limited(refused, "SIMTUNE_SIGNIN_ATTEMPTS_PER_IP")
        assert "at most 3 in 10 minutes" in refused.json()["detail"]

        page = await gateway.get("/signin/email", params={"token": "x" * 20}, headers=HTML)
        assert page.status_code == 429 and "retry-after" in page.headers
        assert page.headers["content-type"].startswith("text/html")
        assert "SIMTUNE_SIGNIN_ATTEMPTS_PER_IP" in page.text

        # signing in is what is limited: a person with a key goes on working
        me = await person(services["accounts"].nc)
        assert (await gateway.get("/api/experts", headers=me.headers)).status_code == 200


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count(servers, services):
    env = {"SIMTUNE_SIGNIN_ATTEMPTS_PER_IP": "2", "SIMTUNE_TRUSTED_PROXIES": "127.0.0.1"}
    async with small_gateway(servers, **env) as gateway:

        async def sign_in(client_ip: str) -> httpx.Response:
            body = {"email": f"x-{uuid.uuid4().hex[:8]}@simtune.test"}
            headers = {"X-Forwarded-For": client_ip}
            return await gateway.post("/api/auth/signin/email", json=body, headers=headers)

        assert [(await sign_in("203.0.113.7")).status_code for _ in range(2)] == [202, 202]
        assert_limited(await sign_in("203.0.113.7"), "SIMTUNE_SIGNIN_ATTEMPTS_PER_IP")
        assert (await sign_in("203.0.113.8")).status_code == 202


async def test_unknown_keys_and_sessions_are_limited_per_address(servers, services):
    me = await person(services["accounts"].nc)
    env = {"SIMTUNE_FAILED_CREDENTIALS_PER_IP": "3"}
    async with small_gateway(servers, **env) as gateway:
        # a browser sending its ended session again and again is one unknown credential
        for _ in range(5):
            stale = await gateway.get("/api/experts", headers={"Cookie": "simtune_session=old"})
            assert stale.status_code == 401
        for guess in ("sk-sim-guess-1", "sk-sim-guess-2"):
            wrong = await gateway.get("/api/experts", headers={"Authorization": f"Bearer {guess}"})
            assert wrong.status_code == 401
        # three different ones came from this address: whatever it presents now is refused
        # before it is looked up, so a guess that would be right tells nothing either
        api = await gateway.get("/api/experts", headers={"Authorization": "Bearer sk-sim-g3"})
        assert_limited(api, "SIMTUNE_FAILED_CREDENTIALS_PER_IP")
        assert_limited(
            await gateway.get("/api/experts", headers=me.headers),
            "SIMTUNE_FAILED_CREDENTIALS_PER_IP",
        )
        openai = await gateway.get("/v1/models", headers={"Authorization": "Bearer sk-sim-g4"})
        assert openai.status_code == 429 and int(openai.headers["retry-after"]) > 0
        error = openai.json()["error"]
        assert (
            error["code"] == "rate_limited"
            and "SIMTUNE_FAILED_CREDENTIALS_PER_IP" in (error["message"])
        )
        page = await gateway.get("/account", headers={**HTML, "Cookie": "simtune_session=x"})
        assert page.status_code == 429 and page.headers["content-type"].startswith("text/html")
        assert "SIMTUNE_FAILED_CREDENTIALS_PER_IP" in page.text
        # no credential at all is still asked to sign in, not told to wait
        assert (await gateway.get("/api/experts")).status_code == 401


# ---- per person -------------------------------------------------------------------------


@asynccontextmanager
async def restarted(services, servers, context: str, **env: str):
    """The session's `context` service replaced by one with `env`, then put back."""
    from tests.conftest import TRAINER_ENV

    base = TRAINER_ENV if context == "trainer" else {}
    await services[context].stop()
    services[context] = await start_service(servers.settings(**base, **env), context)
    try:
        yield services[context]
    finally:
        await services[context].stop()
        services[context] = await start_service(servers.settings(**base), context)


def pages_of_text(tag: str, size: int) -> bytes:
    """A text file of `size` bytes in 50 pages (form feeds): over the session's 40 pages, so
    it is stored and then rejected at once, with no embedding to wait for."""
    page = (f"{tag} harbour log. " * (size // 50 // 20 + 1)).encode()[: size // 50 - 1]
    return b"\f".join([page] * 50)[:size]


async def upload(client: httpx.AsyncClient, expert_id: str, name: str, data: bytes):
    files = [("file", (name, data, "text/plain"))]
    return await client.post(f"/api/experts/{expert_id}/documents", files=files)


async def test_storage_is_capped_per_person_and_a_refused_file_leaves_nothing(
    stack, services, servers, nc
):
    alice, bob = await person(nc), await person(nc)
    first, second = pages_of_text("first", 600_000), pages_of_text("second", 600_000)
    async with (
        restarted(services, servers, "ingest", SIMTUNE_MAX_STORAGE_MB_PER_USER="1"),
        httpx.AsyncClient(base_url=stack.url, timeout=60, headers=alice.headers) as a,
        httpx.AsyncClient(base_url=stack.url, timeout=60, headers=bob.headers) as b,
    ):
        expert = (await a.post("/api/experts", json={"name": "Keeper"})).json()["id"]
        assert (await upload(a, expert, "first.txt", first)).status_code == 202
        refused = await upload(a, expert, "second.txt", second)
        assert refused.status_code == 413, refused.text
        body = refused.json()
        assert body["error"] == "too_large"
        for words in ("second.txt", "1.0 MB", "SIMTUNE_MAX_STORAGE_MB_PER_USER", "in use"):
            assert words in body["detail"], body["detail"]
        # nothing of the refused file stays: no document, no original in the bucket
        listed = (await a.get(f"/api/experts/{expert}/documents")).json()
        assert [d["filename"] for d in listed] == ["first.txt"]
        stored = await sealed_objects(nc).list(DOCUMENTS_BUCKET, f"{alice.tenant}/")
        assert len(stored) == 1
        # the same bytes again store nothing new, so they pass
        again = await upload(a, expert, "first-again.txt", first)
        assert again.status_code == 202 and again.json()["documents"][0]["duplicate"]
        # another person has a limit of their own
        theirs = (await b.post("/api/experts", json={"name": "Other"})).json()["id"]
        assert (await upload(b, theirs, "second.txt", second)).status_code == 202
        assert (await a.delete(f"/api/experts/{expert}")).status_code == 204
        assert (await b.delete(f"/api/experts/{theirs}")).status_code == 204


async def expert_of(nc, tenant: str, model_url: str, key: str) -> str:
    created = await request(
        nc,
        "cmd.expert.create",
        CreateExpert(tenant=tenant, profile=Profile(name=f"cap-{uuid.uuid4().hex[:6]}")),
        Accepted,
    )
    backend = ConfigureBackend(
        tenant=tenant,
        expert_id=created.id,
        kind="openai",
        base_url=model_url,
        model="m",
        api_key=key,
    )
    await request(nc, "cmd.expert.configure_backend", backend, Accepted)
    return created.id


async def test_answers_in_progress_are_capped_per_person(stack, services, servers, nc):
    key = "sk-cap-" + uuid.uuid4().hex[:8]
    model = ScriptedLLM(key, lambda messages: "The tide turns twice a day.", delay_s=3.0)
    alice, bob = await person(nc), await person(nc)
    question = {"question": "How often does the tide turn?", "mode": "closed"}
    async with (
        serving(model) as url,
        restarted(services, servers, "expert", SIMTUNE_MAX_QUEUED_ANSWERS_PER_USER="1"),
        httpx.AsyncClient(base_url=stack.url, timeout=60, headers=alice.headers) as a,
        httpx.AsyncClient(base_url=stack.url, timeout=60, headers=bob.headers) as b,
    ):
        hers = await expert_of(nc, alice.tenant, f"{url}/v1", key)
        his = await expert_of(nc, bob.tenant, f"{url}/v1", key)
        waiting = asyncio.create_task(a.post(f"/api/experts/{hers}/ask", json=question))
        await until(lambda: len(model.requests) == 1, timeout=30, what="her answer begun")

        refused = await a.post(f"/api/experts/{hers}/ask", json=question)
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"] == "rate_limited"
        assert "SIMTUNE_MAX_QUEUED_ANSWERS_PER_USER" in refused.json()["detail"]

        his_answer = asyncio.create_task(b.post(f"/api/experts/{his}/ask", json=question))
        await until(lambda: len(model.requests) == 2, timeout=30, what="his answer begun")
        assert (await waiting).status_code == 200
        assert (await his_answer).status_code == 200
        # her place came back with her answer
        assert (await a.post(f"/api/experts/{hers}/ask", json=question)).status_code == 200


async def test_training_runs_at_once_are_capped_per_person(stack, services, servers, nc):
    alice, bob = await person(nc), await person(nc)
    env = {"SIMTUNE_MAX_RUNS_PER_USER": "1", "SIMTUNE_TRAIN_STEP_DELAY_MS": "400"}
    config = msgspec.to_builtins(
        msgspec.structs.replace(training.TINY, max_steps=100_000, epochs=10)
    )
    async with (
        restarted(services, servers, "trainer", **env),
        httpx.AsyncClient(base_url=stack.url, timeout=60, headers=alice.headers) as a,
        httpx.AsyncClient(base_url=stack.url, timeout=60, headers=bob.headers) as b,
    ):
        runs = {}
        for who, client in ((alice, a), (bob, b)):
            expert = (await client.post("/api/experts", json={"name": "Trainee"})).json()["id"]
            data = await training.dataset(nc, expert, tenant=who.tenant)
            runs[who.tenant] = {"expert_id": expert, "dataset_id": data, "config": config}
        try:
            first = await a.post("/api/finetune", json=runs[alice.tenant])
            assert first.status_code == 202, first.text
            refused = await a.post("/api/finetune", json=runs[alice.tenant])
            assert refused.status_code == 429, refused.text
            detail = refused.json()["detail"]
            assert refused.json()["error"] == "rate_limited"
            assert "SIMTUNE_MAX_RUNS_PER_USER" in detail and "1 at once" in detail
            assert (await b.post("/api/finetune", json=runs[bob.tenant])).status_code == 202
            # once her run is cancelled she may start another
            run_id = first.json()["run_id"]
            assert (await a.delete(f"/api/finetune/{run_id}")).status_code == 200
            again = await a.post("/api/finetune", json=runs[alice.tenant])
            assert again.status_code == 202, again.text
        finally:
            await training.end_all_runs(nc, tenants=(alice.tenant, bob.tenant))
