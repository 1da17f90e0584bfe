"""Hostile input through the real gateway: it is refused with a sentence naming the field
and the rule, it never reaches the log, and afterwards everything still works.

Covers what an API fuzzer finds first: NUL and other control characters, 100k-character
texts and 100k-item lists in every field of every body, ids that are wildcards, dots,
empty or too long on every path that takes one, a text file with NUL past the part that
type detection reads, and a failure inside a service (which must not show its internals).
"""

from __future__ import annotations

import re
import uuid

import msgspec
import pytest
from sqlalchemy import text

from contracts.events import STREAMS
from contracts.expert import Profile, ProfilePatch
from contracts.rules import is_token
from gateway.app import create_app
from gateway.http.filetypes import HEAD_SIZE
from tests.support.api import HTML, csrf_token, new_expert, settled, upload
from tests.support.contract_strategies import text_fields

pytestmark = pytest.mark.integration

BAD_VALUES = {
    "NUL": "a\x00b",
    "bell": "a\x07b",
    "escape": "\x1b[31mred",
    "C1 control": "a\x85b",
    "100k characters": "x" * 100_000,
}
BAD_LISTS = {"100k items": ["x"] * 100_000, "NUL item": ["fine", "a\x00b"]}
BAD_IDS = {
    ">": "%3E",
    "*": "%2A",
    "dot": "a.b",
    "dots": "..x",
    "65 chars": "x" * 65,
    "NUL": "a%00b",
}


def body_with(path: tuple[str, ...], value: object, base: dict | None = None) -> dict:
    body = dict(base or {})
    node = body
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return body


def bad_bodies(cls: type, base: dict | None = None):
    """(field path, what is wrong, body) for every text and list field of a body contract."""
    for path in text_fields(cls):
        for label, value in BAD_VALUES.items():
            yield path, label, body_with(path, value, base)
        for label, value in BAD_LISTS.items():
            yield path, label, body_with(path, value, base)


async def stream_subjects(nc) -> set[str]:
    js = nc.jetstream()
    subjects: set[str] = set()
    for stream in STREAMS.values():
        info = await js.stream_info(stream, subjects_filter=">")
        subjects |= set((info.state.subjects or {}).keys())
    return subjects


def assert_every_subject_is_tokens(subjects: set[str]) -> None:
    for subject in subjects:
        parts = subject.split(".")
        assert len(parts) == 5 and all(is_token(p) for p in parts), subject


async def test_every_field_of_create_and_update_refuses_what_the_log_cannot_keep(api, nc):
    expert = await new_expert(api)
    before = await stream_subjects(nc)
    cases = [
        ("POST", "/api/experts", path, label, body)
        for path, label, body in bad_bodies(Profile, {"name": "Valid"})
    ]
    cases += [
        ("PATCH", f"/api/experts/{expert['id']}", path, label, body)
        for path, label, body in bad_bodies(ProfilePatch)
    ]
    for method, url, path, label, body in cases:
        response = await api.request(method, url, json=body)
        assert response.status_code == 400, (method, path, label, response.text)
        error = response.json()
        assert error["error"] == "invalid"
        assert path[-1] in error["detail"], (path, label, error["detail"])
    assert await stream_subjects(nc) == before  # nothing new on any stream
    # The expert is untouched and the service still answers.
    again = await api.get(f"/api/experts/{expert['id']}")
    assert again.json() == expert
    assert (await api.post("/api/experts", json={"name": "Still fine"})).status_code == 201


async def test_prose_keeps_its_lines_and_tabs(api):
    description = "First line\n\tan indented second line\r\nand a third"
    created = await new_expert(api, description=description)
    assert created["description"] == description


async def test_nul_in_a_search_query_is_a_400_that_names_q(api):
    expert = await new_expert(api)
    response = await api.get(f"/api/experts/{expert['id']}/search", params={"q": "hel\x00lo"})
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("q ")
    ok = await api.get(f"/api/experts/{expert['id']}/search", params={"q": "hello"})
    assert ok.status_code == 200


def id_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the gateway that takes an id, read off the app itself."""
    app = create_app()
    found = []
    for route in app.routes:
        if not re.search(r"\{\w+_id:str\}", route.path):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in handler.http_methods - {"OPTIONS", "HEAD"}:
                found.append((method, route.path))
    return sorted(set(found))


ID_ROUTES = id_routes()


def test_the_id_routes_were_found():
    paths = {path for _, path in ID_ROUTES}
    assert "/api/experts/{expert_id:str}" in paths
    assert "/api/documents/{document_id:str}/file" in paths
    assert len(ID_ROUTES) >= 12


@pytest.mark.parametrize(("method", "route"), ID_ROUTES, ids=[f"{m} {p}" for m, p in ID_ROUTES])
async def test_an_id_that_is_not_a_token_names_nothing(api, nc, method, route):
    before = await stream_subjects(nc)
    token = await csrf_token(api)
    for label, bad in BAD_IDS.items():
        url = re.sub(r"\{\w+_id:str\}", bad, route)
        headers = {"X-CSRF-Token": token, **(HTML if not url.startswith("/api/") else {})}
        response = await api.request(method, url, headers=headers, timeout=10.0)
        assert response.status_code in (400, 404), (label, url, response.status_code)
    empty = re.sub(r"\{\w+_id:str\}", "", route)
    response = await api.request(method, empty, headers={"X-CSRF-Token": token})
    # An empty id addresses no aggregate: another route (the list) or none at all.
    assert response.status_code in (200, 404, 405), (empty, response.status_code)
    after = await stream_subjects(nc)
    assert after == before, f"{method} {route} appended on {after - before}"
    assert_every_subject_is_tokens(after)


async def test_a_text_file_with_nul_past_the_detected_head_is_cleaned(api):
    expert = await new_expert(api)
    head = "A plain line about lighthouses and their keepers.\n" * (HEAD_SIZE // 50 + 10)
    data = head.encode() + b"The keeper\x00 rang the bell\x07 at noon.\x1b\n"
    assert len(head) > HEAD_SIZE
    uploaded = await upload(api, expert["id"], ("notes.txt", data))
    assert uploaded.status_code == 202, uploaded.text
    doc = await settled(api, uploaded.json()["documents"][0]["id"])
    assert doc["status"] == "ready", doc
    hits = await api.get(f"/api/experts/{expert['id']}/search", params={"q": "keeper rang bell"})
    assert hits.status_code == 200
    passage = hits.json()["results"][0]["text"]
    assert "The keeper rang the bell at noon." in passage


async def test_a_failure_inside_a_service_shows_no_internals(api, stack):
    """A real fault (the read model's table is gone) answers a sentence and a reference."""
    expert = await new_expert(api)
    engine = stack.hosts["expert"].engine
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE expert.experts RENAME TO experts_away"))
    try:
        correlation_id = uuid.uuid4().hex
        response = await api.get(
            f"/api/experts/{expert['id']}", headers={"X-Correlation-Id": correlation_id}
        )
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE expert.experts_away RENAME TO experts"))
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal"
    assert correlation_id in body["detail"]
    for internal in ("SELECT", "experts", "asyncpg", "sqlalchemy", "Error", "Traceback"):
        assert internal not in body["detail"], body["detail"]
    assert (await api.get(f"/api/experts/{expert['id']}")).status_code == 200


async def test_a_service_reached_directly_over_nats_enforces_the_same_rules(services, nc):
    """Whoever skips the gateway meets the same contract in the service."""
    before = await stream_subjects(nc)
    create, delete = "cmd.expert.create", "cmd.expert.delete"
    for subject, body in (
        (create, {"profile": {"name": "a\x00b"}}),
        (create, {"profile": {"name": "ok"}, "expert_id": ">"}),
        (create, {"profile": {"name": "ok"}, "tenant": "*"}),
        (delete, {"expert_id": "local.expert.>"}),
    ):
        msg = await nc.request(subject, msgspec.json.encode(body), timeout=10.0)
        error = msgspec.json.decode(msg.data)
        assert error["error"] == "invalid", (body, error)
    assert await stream_subjects(nc) == before


async def test_the_openapi_document_shows_the_rules(api):
    schema = (await api.get("/schema/openapi.json")).json()
    name = schema["components"]["schemas"]["Profile"]["properties"]["name"]
    assert name["maxLength"] == 120 and name["minLength"] == 1 and "\\x00" in name["pattern"]
    goals = schema["components"]["schemas"]["Profile"]["properties"]["goals"]
    assert goals["maxItems"] == 50
