"""The gateway's JSON API over a real stack: every endpoint, its happy path and its errors."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import msgspec
import pytest
import uvicorn

from gateway.app import create_app
from tests.support import pdfs
from tests.support.api import HTML, HTMX, csrf_token, new_expert, settled, upload

pytestmark = pytest.mark.integration

NEEDLE = "The lighthouse keeper of Varnholm polished the great lens every Tuesday at dawn."
FILLER = (
    "This page talks about the weather along the coast, the boats in the harbour and the "
    "habits of the people who live there. "
) * 5


def book() -> bytes:
    return pdfs.make_pdf([f"Harbour notes. {FILLER}", f"Lighthouse notes. {NEEDLE} {FILLER}"])


def assert_error(response: httpx.Response, status: int, code: str, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert body["error"] == code
    for word in words:
        assert word in body["detail"]


# ---- experts -------------------------------------------------------------------------------


async def test_expert_lifecycle(api):
    created = await new_expert(
        api, domain="Lighthouses", goals=["Explain lenses"], style_guide={"tone": "calm"}
    )
    assert created["domain"] == "Lighthouses" and created["goals"] == ["Explain lenses"]
    assert created["style_guide"]["tone"] == "calm" and created["version"] == 1
    expert_id = created["id"]

    one = await api.get(f"/api/experts/{expert_id}")
    assert one.status_code == 200 and one.json() == created
    assert one.headers["etag"] == '"1"'
    listed = (await api.get("/api/experts")).json()
    assert expert_id in [e["id"] for e in listed]

    patched = await api.patch(
        f"/api/experts/{expert_id}",
        json={"domain": "Coastal navigation"},
        headers={"If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["domain"] == "Coastal navigation"
    assert patched.json()["name"] == created["name"]  # fields not sent stay as they were
    assert patched.json()["version"] == 2 and patched.headers["etag"] == '"2"'

    stale = await api.patch(
        f"/api/experts/{expert_id}", json={"domain": "Something else"}, headers={"If-Match": '"1"'}
    )
    assert_error(stale, 409, "conflict")
    assert (await api.get(f"/api/experts/{expert_id}")).json()["domain"] == "Coastal navigation"

    deleted = await api.delete(f"/api/experts/{expert_id}")
    assert deleted.status_code == 204
    assert_error(await api.get(f"/api/experts/{expert_id}"), 404, "not_found")
    assert expert_id not in [e["id"] for e in (await api.get("/api/experts")).json()]


@pytest.mark.parametrize(
    ("body", "word"),
    [({"name": "   "}, "name"), ({}, "name"), ({"name": "A", "goals": "not a list"}, "goals")],
)
async def test_invalid_expert_is_400(api, body, word):
    assert_error(await api.post("/api/experts", json=body), 400, "invalid", word)


async def test_bad_if_match_is_400(api):
    expert = await new_expert(api)
    response = await api.patch(
        f"/api/experts/{expert['id']}", json={"domain": "x"}, headers={"If-Match": "yesterday"}
    )
    assert_error(response, 400, "invalid", "If-Match")


async def test_unknown_expert_is_404_everywhere(api):
    missing = "no-such-expert"
    assert_error(await api.get(f"/api/experts/{missing}"), 404, "not_found", missing)
    assert_error(await api.patch(f"/api/experts/{missing}", json={"domain": "x"}), 404, "not_found")
    assert_error(await api.delete(f"/api/experts/{missing}"), 404, "not_found")
    assert_error(await api.get(f"/api/experts/{missing}/documents"), 404, "not_found")
    assert_error(await upload(api, missing, ("a.txt", b"hello")), 404, "not_found")
    assert_error(
        await api.get(f"/api/experts/{missing}/search", params={"q": "x"}), 404, "not_found"
    )
    assert_error(await api.get("/api/documents/no-such-document"), 404, "not_found")
    assert_error(await api.delete("/api/documents/no-such-document"), 404, "not_found")
    assert_error(await api.get("/api/documents/no-such-document/file"), 404, "not_found")


async def test_unknown_path_is_a_json_404(api):
    assert_error(await api.get("/api/nothing-here"), 404, "not_found")


# ---- documents -----------------------------------------------------------------------------


async def test_pdf_becomes_ready_searchable_and_downloadable(api):
    expert = await new_expert(api)
    data = book()
    response = await upload(api, expert["id"], ("harbour.pdf", data))
    assert response.status_code == 202, response.text
    (accepted,) = response.json()["documents"]
    assert accepted["filename"] == "harbour.pdf"
    assert accepted["status"] in ("uploaded", "parsing", "embedding", "ready")

    doc = await settled(api, accepted["id"])
    assert doc["status"] == "ready" and doc["reason"] is None
    listed = (await api.get(f"/api/experts/{expert['id']}/documents")).json()
    (row,) = listed
    assert {"id", "filename", "status", "pages", "chunks", "reason", "sha256"} <= set(row)
    assert row["pages"] == 2 and row["chunks"] >= 2 and row["status"] == "ready"

    found = await api.get(
        f"/api/experts/{expert['id']}/search", params={"q": "who polishes the lens?", "k": 3}
    )
    assert found.status_code == 200
    hits = found.json()["results"]
    assert 1 <= len(hits) <= 3
    best = hits[0]
    assert best["document_id"] == accepted["id"] and best["filename"] == "harbour.pdf"
    assert best["page"] == 2 and "Varnholm" in best["text"]
    assert {"chunk_id", "score"} <= set(best)

    original = await api.get(f"/api/documents/{accepted['id']}/file")
    assert original.status_code == 200
    assert original.headers["content-type"] == "application/pdf"
    assert original.content == data


async def accepted_upload(api, *files: tuple[str, bytes]) -> list[dict]:
    """Upload `files` to a new expert in one request; it is accepted (202): the documents
    it names."""
    expert = await new_expert(api)
    response = await upload(api, expert["id"], *files)
    assert response.status_code == 202, response.text
    return response.json()["documents"]


async def test_text_and_markdown_in_one_upload(api):
    docs = await accepted_upload(
        api,
        ("notes.txt", b"Plain notes about tides and currents.\n" * 20),
        ("guide.md", b"# Guide\n\nMarkdown about knots and sails.\n" * 20),
    )
    assert [d["filename"] for d in docs] == ["notes.txt", "guide.md"]
    for accepted in docs:
        assert (await settled(api, accepted["id"]))["status"] == "ready"
    markdown = await api.get(f"/api/documents/{docs[1]['id']}/file")
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"  # one charset
    assert markdown.text.startswith("# Guide")


async def test_same_bytes_twice_is_one_document(api):
    expert = await new_expert(api)
    first = (await upload(api, expert["id"], ("a.txt", b"Same words.\n" * 30))).json()
    again = (await upload(api, expert["id"], ("b.txt", b"Same words.\n" * 30))).json()
    assert again["documents"][0]["id"] == first["documents"][0]["id"]
    assert again["documents"][0]["duplicate"] is True


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("empty.pdf", b"", 400, "invalid"),
        ("blank.txt", b"   \n\n  ", 400, "invalid"),
        ("picture.png", pdfs.make_png(), 415, "unsupported_media_type"),
        ("report.pdf", pdfs.make_png(), 415, "unsupported_media_type"),  # judged by content
    ],
)
async def test_bad_files_are_refused_at_once_naming_the_file(api, name, data, status, code):
    expert = await new_expert(api)
    assert_error(await upload(api, expert["id"], (name, data)), status, code, name)
    assert (await api.get(f"/api/experts/{expert['id']}/documents")).json() == []


async def test_one_bad_file_means_nothing_is_stored(api):
    expert = await new_expert(api)
    response = await upload(
        api, expert["id"], ("good.txt", b"Useful words.\n" * 10), ("bad.png", pdfs.make_png())
    )
    assert_error(response, 415, "unsupported_media_type", "bad.png")
    assert (await api.get(f"/api/experts/{expert['id']}/documents")).json() == []


async def test_upload_needs_multipart_file_parts(api):
    expert = await new_expert(api)
    url = f"/api/experts/{expert['id']}/documents"
    assert_error(await api.post(url, json={"file": "x"}), 400, "invalid", "multipart")
    no_file = await api.post(url, files=[("attachment", ("a.txt", b"hi", "text/plain"))])
    assert_error(no_file, 400, "invalid", "file")


async def test_filenames_lose_their_directories(api):
    kept = {"../../etc/secret notes.txt": "secret notes.txt", "C:\\Users\\me\\plan.md": "plan.md"}
    files = [(path, f"The text of {name}.\n".encode() * 10) for path, name in kept.items()]
    docs = await accepted_upload(api, *files)
    assert [d["filename"] for d in docs] == list(kept.values())


async def test_file_over_the_limit_is_413(api, stack):
    expert = await new_expert(api)
    limit = stack.settings.max_upload_bytes
    big = b"a line of text that repeats\n" * (limit // 28 + 100)
    response = await upload(api, expert["id"], ("huge.txt", big))
    assert_error(response, 413, "too_large", "huge.txt")
    assert (await api.get(f"/api/experts/{expert['id']}/documents")).json() == []


@asynccontextmanager
async def gateway_with(settings, headers: dict) -> AsyncIterator[httpx.AsyncClient]:
    """A second gateway (own settings) served by uvicorn on a free port, in this loop."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), task.result()
        await asyncio.sleep(0.02)
    try:
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
            yield client
    finally:
        server.should_exit = True
        await task


async def test_small_limit_rejects_from_content_length_and_while_streaming(api, stack):
    expert = await new_expert(api)
    settings = msgspec.structs.replace(stack.settings, max_upload_bytes=1024)
    async with gateway_with(settings, stack.owner.headers) as small:
        url = f"/api/experts/{expert['id']}/documents"
        one_part = [("file", ("big.txt", b"x" * 5000, "text/plain"))]
        assert_error(await small.post(url, files=one_part), 413, "too_large", "big.txt", "1 KB")
        clearly_over = [("file", ("all.txt", b"y" * 200_000, "text/plain"))]
        assert_error(await small.post(url, files=clearly_over), 413, "too_large")
        fits = [("file", ("ok.txt", b"z words\n" * 100, "text/plain"))]
        assert (await small.post(url, files=fits)).status_code == 202


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("locked.pdf", pdfs.make_encrypted_pdf("A secret about the lighthouse.")),
        ("scan.pdf", pdfs.make_image_only_pdf(pages=1)),
        ("broken.pdf", pdfs.make_corrupt_pdf()),
    ],
)
async def test_parse_problems_end_rejected_with_a_reason(api, name, data):
    (accepted,) = await accepted_upload(api, (name, data))
    doc = await settled(api, accepted["id"])
    assert doc["status"] == "rejected"
    assert doc["reason"] and len(doc["reason"]) > 10


async def test_delete_document(api):
    expert = await new_expert(api)
    accepted = (await upload(api, expert["id"], ("tides.txt", b"High tide at noon.\n" * 30))).json()
    doc_id = accepted["documents"][0]["id"]
    await settled(api, doc_id)
    assert (await api.delete(f"/api/documents/{doc_id}")).status_code == 204
    assert_error(await api.get(f"/api/documents/{doc_id}"), 404, "not_found")
    assert (await api.get(f"/api/experts/{expert['id']}/documents")).json() == []


@pytest.mark.parametrize(
    ("params", "word"),
    [({}, "q"), ({"q": "   "}, "q"), ({"q": "x", "k": 0}, "k"), ({"q": "x", "k": 500}, "k")],
)
async def test_search_validation(api, params, word):
    expert = await new_expert(api)
    response = await api.get(f"/api/experts/{expert['id']}/search", params=params)
    assert_error(response, 400, "invalid", word)


# ---- operations ----------------------------------------------------------------------------


async def test_health(api):
    response = await api.get("/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and "down" not in body
    states = {(c["kind"], c["name"]): c["state"] for c in body["components"]}
    assert states[("projection", "expert.experts")] == "running"
    assert states[("projection", "knowledge.index")] == "running"
    assert ("reactor", "ingest.parse") in states and ("reactor", "knowledge.index") in states


async def test_rebuild_projections_keeps_what_people_see(api):
    expert = await new_expert(api)
    accepted = (await upload(api, expert["id"], ("r.txt", b"Rebuild me.\n" * 30))).json()
    await settled(api, accepted["documents"][0]["id"])
    before = (await api.get(f"/api/experts/{expert['id']}/documents")).json()
    for service in ("expert", "ingest", "knowledge"):
        response = await api.post(f"/api/admin/projections/{service}/rebuild")
        assert response.status_code == 202, response.text
        job = response.json()
        assert job["service"] == service and job["projections"]
        while job["state"] == "running":
            await asyncio.sleep(0.1)
            job = (await api.get(response.headers["location"])).json()
        assert job["state"] == "done", job
    assert (await api.get(f"/api/experts/{expert['id']}")).status_code == 200
    assert (await api.get(f"/api/experts/{expert['id']}/documents")).json() == before
    assert_error(await api.post("/api/admin/projections/nope/rebuild"), 404, "not_found", "nope")


async def test_openapi_schema_is_complete(api):
    schema = (await api.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    for path, methods in {
        "/api/experts": {"get", "post"},
        "/api/experts/{expert_id}": {"get", "patch", "delete"},
        "/api/experts/{expert_id}/documents": {"get", "post"},
        "/api/documents/{document_id}": {"get", "delete"},
        "/api/documents/{document_id}/file": {"get"},
        "/api/experts/{expert_id}/search": {"get"},
        "/api/events": {"get"},
        "/api/admin/projections/{service}/rebuild": {"post"},
        "/health": {"get"},
    }.items():
        assert methods <= set(paths[path]), path
    upload_op = paths["/api/experts/{expert_id}/documents"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    assert {"400", "404", "413", "415"} <= set(upload_op["responses"])
    names = set(schema["components"]["schemas"])
    assert {
        "Profile",
        "ProfilePatch",
        "ExpertView",
        "DocumentOut",
        "UploadAccepted",
        "ErrorBody",
    } <= names
    assert not any(p.startswith(("/ui", "/experts")) for p in paths)
    # Every error is documented in the shape it is answered in (the fuzzer checks the
    # answers against this), and every JSON route can answer 400 and 503.
    for path, operations in paths.items():
        shape = "OpenAIError" if path.startswith("/v1/") else "ErrorBody"
        for method, operation in operations.items():
            responses = operation["responses"]
            assert path.startswith("/v1/") or {"400", "503"} <= set(responses), (method, path)
            for status, response in responses.items():
                if status[0] in "45" and (path, status) != ("/health", "503"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema["$ref"].endswith(f"/{shape}"), (method, path, status)
    answers = {
        ("/api/events", "get"): ["text/event-stream"],
        ("/api/documents/{document_id}/file", "get"): ["*/*"],
        ("/api/lora/audit", "get"): ["application/json", "text/csv"],
        ("/v1/chat/completions", "post"): ["application/json", "text/event-stream"],
    }
    for (path, method), media_types in answers.items():
        assert list(paths[path][method]["responses"]["200"]["content"]) == media_types, path


async def test_a_request_is_one_trace_across_gateway_and_service(api, spans):
    await new_expert(api)
    finished = spans.get_finished_spans()
    server = [s for s in finished if s.name == "POST /api/experts"]
    assert server, [s.name for s in finished]
    trace_id = server[-1].context.trace_id
    service_side = [s for s in finished if s.name == "cmd.expert.create"]
    assert any(s.context.trace_id == trace_id for s in service_side)


# ---- pages ---------------------------------------------------------------------------------


async def test_home_page_and_create_form(api):
    home = await api.get("/", headers=HTML)
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert 'action="/ui/experts"' in home.text and '<label for="name">' in home.text

    name = f"Page expert {uuid.uuid4().hex[:6]}"
    form = {"name": name, "domain": "Knots", "description": "", "goals": "Tie knots\n\nUntie them"}
    form["_csrf"] = api.cookies["simtune_csrf"]
    created = await api.post("/ui/experts", data=form)
    assert created.status_code == 303
    page_url = created.headers["location"]
    assert page_url.startswith("/experts/")
    expert_id = page_url.rsplit("/", 1)[1]
    expert = (await api.get(f"/api/experts/{expert_id}")).json()
    assert expert["goals"] == ["Tie knots", "Untie them"]

    page = await api.get(page_url, headers=HTML)
    assert page.status_code == 200
    for text in (name, "Knots", "No documents yet", f'sse-connect="/ui/experts/{expert_id}'):
        assert text in page.text
    assert name in (await api.get("/", headers=HTML)).text


async def test_create_form_explains_what_is_wrong(api):
    form = {"name": "  ", "_csrf": await csrf_token(api)}
    response = await api.post("/ui/experts", data=form, headers=HTML)
    assert response.status_code == 400
    assert "name must not be empty" in response.text and "<form" in response.text


async def test_unknown_expert_page_is_a_friendly_404(api):
    response = await api.get("/experts/nobody", headers=HTML)
    assert response.status_code == 404
    assert "We could not find that" in response.text and "Back to your experts" in response.text


async def test_static_files_and_vendored_htmx(api):
    assert (await api.get("/static/simtune.css")).status_code == 200
    assert (await api.get("/static/simtune.js")).status_code == 200
    for path in ("htmx.org/dist/htmx.min.js", "htmx-ext-sse/dist/sse.min.js"):
        response = await api.get(f"/static/vendor/{path}")
        assert response.status_code == 200, f"{path}: run `npm ci` in web/"


async def test_page_upload_search_and_delete(api):
    expert = await new_expert(api)
    url = f"/ui/experts/{expert['id']}/documents"
    htmx = {**HTMX, "X-CSRF-Token": await csrf_token(api)}
    refused = await api.post(
        url, files=[("file", ("photo.pdf", pdfs.make_png(), "application/pdf"))], headers=htmx
    )
    assert refused.status_code == 415
    assert 'class="alert error"' in refused.text and "photo.pdf" in refused.text

    sent = await api.post(
        url, files=[("file", ("harbour.pdf", book(), "application/pdf"))], headers=htmx
    )
    assert sent.status_code == 200 and "Received harbour.pdf" in sent.text
    (doc,) = (await api.get(f"/api/experts/{expert['id']}/documents")).json()
    await settled(api, doc["id"])

    table = await api.get(url, headers=HTMX)
    assert 'data-status="ready"' in table.text and "harbour.pdf" in table.text
    results = await api.get(
        f"/ui/experts/{expert['id']}/search", params={"q": "lens polishing"}, headers=HTMX
    )
    assert results.status_code == 200
    assert f"/api/documents/{doc['id']}/file#page=2" in results.text and "Varnholm" in results.text
    no_js = await api.get(f"/experts/{expert['id']}", params={"q": "lens polishing"}, headers=HTML)
    assert "Varnholm" in no_js.text

    removed = await api.post(f"/ui/documents/{doc['id']}/delete", headers=htmx)
    assert removed.status_code == 200 and "No documents yet" in removed.text


async def test_page_upload_without_javascript_redirects_back(api):
    expert = await new_expert(api)
    response = await api.post(
        f"/ui/experts/{expert['id']}/documents",
        params={"_csrf": await csrf_token(api)},  # as the page's form action carries it
        files=[("file", ("plain.txt", b"Words without scripts.\n" * 10, "text/plain"))],
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/experts/{expert['id']}"
    # let its indexing finish here, not in the middle of a later test
    docs = (await api.get(f"/api/experts/{expert['id']}/documents")).json()
    assert (await settled(api, docs[0]["id"]))["status"] == "ready"


async def test_page_delete_expert(api):
    expert = await new_expert(api)
    htmx = {**HTMX, "X-CSRF-Token": await csrf_token(api)}
    response = await api.post(f"/ui/experts/{expert['id']}/delete", headers=htmx)
    assert response.status_code == 204 and response.headers["hx-redirect"] == "/"
    assert (await api.get(f"/api/experts/{expert['id']}")).status_code == 404
