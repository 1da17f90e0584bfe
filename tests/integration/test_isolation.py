"""Two people on one Simtune: what one makes, the other can neither see nor touch.

The routes are not listed here: the test walks the gateway's own OpenAPI document, so a
route added tomorrow is walked too. Person B calls every operation with person A's ids in
its path and query and must get exactly what a missing id gets (same status, same error
code); every list B reads must name none of A's ids; B's live event stream must carry none of
A's events; and after the walk all of A's things are still there.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import httpx
import pytest

from tests.support.accounts import owner, person
from tests.support.adapters import import_archive, lora_folder, tar_gz
from tests.support.api import new_expert, quick_answer, settled, upload
from tests.support.waiting import until

pytestmark = pytest.mark.integration

PARAMETER = re.compile(r"\{(\w+)\}")
MISSING = "missing-0000"
STREAM_READ_S = 5.0
METHODS = ("get", "post", "put", "patch", "delete")


async def things_of_a(api: httpx.AsyncClient, servers, tmp_path) -> dict[str, str]:
    """A's expert, document, answer, adapter version and template (applied to the expert):
    the ids B will try."""
    expert = await new_expert(api, name="A's private expert")
    uploaded = await upload(api, expert["id"], ("a-notes.txt", b"A's secret tide table: 4 a.m."))
    document = uploaded.json()["documents"][0]
    await settled(api, document["id"])
    answer = await quick_answer(api, expert["id"], "When is the tide?")
    folder = lora_folder(servers.base_model, tmp_path / "lora", seed=3)
    imported = await import_archive(api, expert["id"], tar_gz(folder))
    assert imported.status_code in (200, 201), imported.text
    method = (
        "---\nname: A's private method\ndescription: Tides first.\ndomain: tides\n"
        "methodology: stepwise\nkeywords: [tides]\nversion: 1.0.0\n---\n"
        "Check the tide table first.\n"
    )
    template = await api.post("/api/templates", json={"content": method})
    assert template.status_code == 201, template.text
    applied = await api.post(
        f"/api/experts/{expert['id']}/template", json={"template_id": template.json()["id"]}
    )
    assert applied.status_code == 200, applied.text
    return {
        "expert_id": expert["id"],
        "document_id": document["id"],
        "answer_id": answer["answer_id"],
        "adapter_id": imported.json()["id"],
        "template_id": template.json()["id"],
    }


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def filled(path: str, operation: dict, ids: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The path with each parameter set to A's id of that name (else a missing one), and the
    query parameters that name ids likewise."""
    url = PARAMETER.sub(lambda m: ids.get(m.group(1), MISSING), path)
    query = {
        p["name"]: ids.get(p["name"], MISSING)
        for p in operation.get("parameters", [])
        if p.get("in") == "query" and p["name"].endswith("_id")
    }
    return url, query


async def call(client: httpx.AsyncClient, method: str, url: str, query: dict) -> tuple[int, str]:
    """Status and error code of one call (a stream is read only until it answers)."""
    body = {} if method in ("post", "put", "patch") else None
    async with client.stream(method.upper(), url, params=query, json=body) as response:
        try:
            raw = await asyncio.wait_for(response.aread(), STREAM_READ_S)
        except TimeoutError:
            return response.status_code, "(stream)"
    try:
        error = json.loads(raw).get("error") if raw else None
    except (ValueError, AttributeError):
        error = None
    return response.status_code, str(error)


async def test_another_persons_ids_answer_as_missing_ones_on_every_route(
    stack, servers, nc, tmp_path
):
    a, b = await owner(nc), await person(nc)
    async with (
        httpx.AsyncClient(base_url=stack.url, timeout=60.0, headers=a.headers) as as_a,
        httpx.AsyncClient(base_url=stack.url, timeout=60.0, headers=b.headers) as as_b,
    ):
        ids = await things_of_a(as_a, servers, tmp_path)
        schema = (await as_b.get("/schema/openapi.json")).json()
        walked, leaks = 0, []
        for path, method, operation in operations(schema):
            names = PARAMETER.findall(path)
            url, query = filled(path, operation, ids)
            if not any(n in ids for n in names) and not any(
                v in ids.values() for v in query.values()
            ):
                if method == "get" and not names:  # a list: it names nothing of A's
                    status, _ = await call(as_b, method, url, query)
                    listed = (await as_b.get(url, params=query)).text if status == 200 else ""
                    leaks += [f"GET {path} shows {i}" for i in ids.values() if i in listed]
                continue
            missing = PARAMETER.sub(MISSING, path), dict.fromkeys(query, MISSING)
            seen = await call(as_b, method, url, query)
            expected = await call(as_b, method, *missing)
            walked += 1
            if seen != expected or seen[0] < 400:
                leaks.append(f"{method.upper()} {path}: {seen} where a missing id gives {expected}")
        assert walked >= 20, f"only {walked} operations take an id: is the document complete?"
        assert leaks == []

        # nothing of A's was changed by B's deletes and posts
        for key, url in [
            ("expert_id", "/api/experts/{}"),
            ("document_id", "/api/documents/{}"),
            ("answer_id", "/api/answers/{}"),
            ("adapter_id", "/api/lora/{}"),
            ("template_id", "/api/templates/{}"),
        ]:
            response = await as_a.get(url.format(ids[key]))
            assert response.status_code == 200, (key, response.text)


async def test_a_persons_live_events_carry_nothing_of_anothers(stack, nc):
    a, b = await owner(nc), await person(nc)
    async with (
        httpx.AsyncClient(base_url=stack.url, timeout=60.0, headers=a.headers) as as_a,
        httpx.AsyncClient(base_url=stack.url, timeout=60.0, headers=b.headers) as as_b,
    ):
        mine = await new_expert(as_b, name="B's own expert")
        seen: list[str] = []

        async def listen() -> None:
            async with as_b.stream("GET", "/api/events?topics=expert") as events:
                async for line in events.aiter_lines():
                    if line.startswith("data:"):
                        seen.append(line)

        listening = asyncio.create_task(listen())
        theirs = await new_expert(as_a, name=f"A's expert {uuid.uuid4().hex[:6]}")
        ours = await as_b.patch(f"/api/experts/{mine['id']}", json={"domain": "tides"})
        assert ours.status_code == 200, ours.text
        await until(lambda: any(mine["id"] in line for line in seen), timeout=20)
        listening.cancel()
        assert not [line for line in seen if theirs["id"] in line]


async def test_without_a_key_the_api_asks_who_you_are_in_each_callers_language(stack):
    async with httpx.AsyncClient(base_url=stack.url, timeout=30.0) as anonymous:
        api = await anonymous.get("/api/experts")
        assert api.status_code == 401
        assert api.json()["error"] == "unauthenticated"
        assert api.headers["www-authenticate"].startswith("Bearer")

        openai = await anonymous.get("/v1/models")
        assert openai.status_code == 401
        assert openai.json()["error"]["code"] == "invalid_api_key"

        page = await anonymous.get("/experts/x", headers={"Accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"] == "/signin?next=%2Fexperts%2Fx"

        wrong = await anonymous.get("/api/experts", headers={"Authorization": "Bearer sk-sim-no"})
        assert wrong.status_code == 401

        health = await anonymous.get("/health")
        assert health.status_code == 200
        assert "@" not in health.text


async def test_every_operation_without_a_key_is_refused_unless_it_is_public(stack):
    """The unauthenticated half of the fuzzer: every operation of the document, once, with
    no credential (and once with a made-up key), answers 401 unless the route is public."""
    public = {
        "/health",
        "/api/auth/signin/email",
        "/api/auth/passkeys/signin/begin",
        "/api/auth/passkeys/signin/finish",
    }
    public_reads = {  # the template registry: anyone may read it (writes need a key)
        "GET /v1/templates",
        "GET /v1/templates/{registry_id}",
        "GET /v1/templates/{registry_id}/versions",
        "GET /v1/templates/{registry_id}/download",
    }
    async with httpx.AsyncClient(base_url=stack.url, timeout=30.0) as anonymous:
        schema = (await anonymous.get("/schema/openapi.json")).json()
        answered: dict[str, int] = {}
        for path, method, operation in operations(schema):
            url, query = filled(path, operation, {})
            for headers in ({}, {"Authorization": "Bearer sk-sim-made-up"}):
                anonymous.headers.clear()
                anonymous.headers.update(headers)
                status, _ = await call(anonymous, method, url, query)
                answered[f"{method.upper()} {path} {bool(headers)}"] = status
        refused = {k for k, status in answered.items() if status == 401}
        opened = {
            k for k in answered if k.split()[1] in public or " ".join(k.split()[:2]) in public_reads
        }
        assert len(answered) >= 60
        assert set(answered) - opened == refused, sorted(set(answered) - opened - refused)
