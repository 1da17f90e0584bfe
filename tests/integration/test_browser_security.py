"""A web page the user visits cannot drive Simtune: origins, hosts, body types, CSRF, headers.

Against the session's real gateway. The unsafe routes are read from the app itself, so a new
route is covered the day it is added.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar.routes import HTTPRoute

from gateway.app import create_app
from gateway.http.security import CSP, UNSAFE_METHODS, AllowedHosts, same_origin
from runtime.settings import SettingsError, load_settings
from tests.support.waiting import until

pytestmark = pytest.mark.integration

EVIL = "http://evil.example"
HTML = {"Accept": "text/html"}
HTMX = {"HX-Request": "true"}
# What a browser sends with a request that a page on another site made.
FOREIGN_SENDERS = {
    "another site": {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    "an older browser (Origin only)": {"Origin": EVIL},
    "fetch metadata only": {"Sec-Fetch-Site": "cross-site"},
    "a sibling site": {"Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"},
    "a sandboxed frame": {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
}
# The bodies a plain HTML form on another site can send without a CORS preflight.
BOUNDARY = "simtune-attack"
FOREIGN_BODIES = {
    "form-encoded": ("application/x-www-form-urlencoded", "name=Mallory&_csrf={token}"),
    "text/plain": ("text/plain", '{{"name": "Mallory", "_csrf": "{token}"}}'),
    "multipart": (
        f"multipart/form-data; boundary={BOUNDARY}",
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="m.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nMallory was here.\r\n--{BOUNDARY}--\r\n",
    ),
}


def unsafe_routes() -> list[tuple[str, str]]:
    app = create_app(load_settings({}))  # never started: only its routes are read
    return sorted(
        (method, route.path_format)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for method in route.methods & UNSAFE_METHODS
    )


UNSAFE_ROUTES = unsafe_routes()


async def csrf_token(api: httpx.AsyncClient) -> str:
    """Open the console as a browser would: `api` then holds its CSRF cookie; the token."""
    await api.get("/", headers=HTML)
    return api.cookies["simtune_csrf"]


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code and response.json()["detail"]


@pytest.fixture(scope="module")
async def victim(stack) -> AsyncIterator[dict[str, str]]:
    """An expert with one document and one answer: the values every path parameter is
    filled with. One for the module: every test that uses it checks that it is unchanged."""
    async with httpx.AsyncClient(
        base_url=stack.url, timeout=30.0, headers=stack.owner.headers
    ) as api:
        yield await make_victim(api)


async def make_victim(api: httpx.AsyncClient) -> dict[str, str]:
    created = await api.post("/api/experts", json={"name": f"Victim {uuid.uuid4().hex[:6]}"})
    assert created.status_code == 201, created.text
    expert_id = created.json()["id"]
    files = [("file", ("notes.txt", b"Notes about tides.\n" * 20, "text/plain"))]
    uploaded = await api.post(f"/api/experts/{expert_id}/documents", files=files)
    assert uploaded.status_code == 202, uploaded.text
    document_id = uploaded.json()["documents"][0]["id"]
    asked = await api.post(
        f"/api/experts/{expert_id}/ask",
        json={"question": "Tides?", "mode": "closed", "max_tokens": 4},
    )
    assert asked.status_code == 200, asked.text
    manual = [{"question": "Tides?", "answer": "Twice a day."}]
    built = await api.post(
        f"/api/experts/{expert_id}/datasets", json={"sources": {"manual": manual}}
    )
    assert built.status_code == 202, built.text
    dataset_id = built.json()["dataset_id"]

    async def built() -> bool:
        return (await api.get(f"/api/datasets/{dataset_id}")).json()["status"] != "building"

    await until(built, what=f"dataset {dataset_id} to be built")
    examples = (await api.get(f"/api/datasets/{dataset_id}/examples")).json()["examples"]
    return {
        "expert_id": expert_id,
        "document_id": document_id,
        "answer_id": asked.json()["answer_id"],
        "dataset_id": dataset_id,
        "example_id": examples[0]["id"],
        "run_id": "no-run-yet",  # refused before any run is looked up
        "adapter_id": "no-adapter-yet",  # likewise
        "question_id": "no-question-yet",  # likewise
        "credential_id": "no-passkey-yet",  # likewise
        "user_id": "no-such-user",  # likewise
        "key_id": "no-such-key",  # likewise
        "template_id": "no-template-yet",  # likewise
        "registry_id": "no-published-template",  # likewise
        "case_id": "no-case-yet",  # likewise
        "service": "expert",
    }


async def everything(api: httpx.AsyncClient, victim: dict[str, str]) -> tuple:
    """What a successful attack would change: the experts, the victim (its profile and model
    settings), its documents, its answers and their feedback."""
    experts = sorted(e["id"] for e in (await api.get("/api/experts")).json())
    expert = (await api.get(f"/api/experts/{victim['expert_id']}")).json()
    backend = (await api.get(f"/api/experts/{victim['expert_id']}/backend")).json()
    docs = (await api.get(f"/api/experts/{victim['expert_id']}/documents")).json()
    traces = (await api.get(f"/api/experts/{victim['expert_id']}/traces")).json()["traces"]
    answers = sorted((t["answer_id"], str(t["feedback"])) for t in traces)
    datasets = (await api.get(f"/api/experts/{victim['expert_id']}/datasets")).json()
    versions = sorted((d["id"], d["status"]) for d in datasets)
    return experts, expert, backend, sorted(d["id"] for d in docs), answers, versions


# ---- other origins -------------------------------------------------------------------------


def test_the_unsafe_routes_are_all_found():
    paths = {path for _, path in UNSAFE_ROUTES}
    assert {"/api/experts", "/api/experts/{expert_id}", "/ui/experts"} <= paths
    assert {"/api/admin/projections/{service}/rebuild", "/ui/experts/{expert_id}/delete"} <= paths
    assert {method for method, _ in UNSAFE_ROUTES} == {"POST", "PUT", "PATCH", "DELETE"}
    assert {"/api/answers/{answer_id}/feedback", "/api/experts/{expert_id}/backend"} <= paths


@pytest.mark.parametrize(("method", "path"), UNSAFE_ROUTES)
async def test_other_sites_cannot_use_an_unsafe_route(api, victim, method, path):
    url = path.format(**victim)
    token = await csrf_token(api)  # even knowing the token and holding the cookie
    before = await everything(api, victim)
    for sender, headers in FOREIGN_SENDERS.items():
        for kind, (content_type, body) in FOREIGN_BODIES.items():
            response = await api.request(
                method,
                url,
                content=body.format(token=token).encode(),
                headers={**headers, "Content-Type": content_type},
            )
            assert response.status_code == 403, f"{sender}, {kind}: {response.text}"
            assert response.json()["error"] == "forbidden"
    assert await everything(api, victim) == before


# ---- host names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}", "[::1]:{port}"]
)
async def test_a_foreign_host_name_is_400(api, stack, host):
    host = host.format(port=stack.url.rsplit(":", 1)[1])
    before = (await api.get("/api/experts")).json()
    for method, path, kwargs in [
        ("GET", "/api/experts", {}),
        ("GET", "/", {"headers": HTML}),
        ("GET", "/static/simtune.css", {}),
        ("POST", "/api/experts", {"json": {"name": "Rebound"}}),
    ]:
        headers = {**kwargs.pop("headers", {}), "Host": host}
        response = await api.request(method, path, headers=headers, **kwargs)
        assert response.status_code == 400, f"{method} {path}: {response.text}"
        if path.startswith("/api/"):
            assert_error(response, 400, "invalid")
            assert host in response.json()["detail"]
    assert (await api.get("/api/experts")).json() == before


async def test_the_default_host_names_are_served(api, stack):
    port = stack.url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}", "localhost"):
        response = await api.get("/api/experts", headers={"Host": host})
        assert response.status_code == 200, host


def test_allowed_hosts_setting():
    assert load_settings({}).allowed_hosts == ("127.0.0.1", "localhost")
    own = load_settings({"SIMTUNE_HOST": "simtune.lan", "SIMTUNE_ALLOWED_HOSTS": "*.Example.org"})
    assert own.allowed_hosts == ("*.example.org", "simtune.lan")
    assert "0.0.0.0" not in load_settings({"SIMTUNE_HOST": "0.0.0.0"}).allowed_hosts
    for bad in ("http://simtune.lan", "simtune.lan:8000", "a b", "evil*.example"):
        with pytest.raises(SettingsError, match="SIMTUNE_ALLOWED_HOSTS"):
            load_settings({"SIMTUNE_ALLOWED_HOSTS": bad})


def test_allowed_host_matching():
    hosts = AllowedHosts(["localhost", "*.example.org", "::1"])
    for ok in ("localhost", "localhost:8000", "a.example.org:1", "a.b.example.org", "[::1]:8000"):
        hosts.check(ok)
    for bad in ("example.org", "evil-example.org", "localhost:x", "user@localhost", "", None):
        with pytest.raises(Exception, match="host name"):
            hosts.check(bad)
    AllowedHosts(["*"]).check("anything.at.all:1")


def test_same_origin():
    assert same_origin("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert same_origin("http://simtune.lan", "simtune.lan:80")
    assert same_origin("https://simtune.lan", "simtune.lan")
    assert not same_origin("http://127.0.0.1:8001", "127.0.0.1:8000")
    assert not same_origin("http://localhost:8000", "127.0.0.1:8000")
    assert not same_origin("null", "127.0.0.1:8000")
    assert not same_origin("file://", "127.0.0.1:8000")
    assert not same_origin("http://[::1", "127.0.0.1:8000")


# ---- body types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", None, "application/xml"]
)
async def test_json_routes_need_a_json_body(api, victim, content_type):
    """Without Origin (as curl or a script would send it) the body type alone is refused."""
    before = await everything(api, victim)
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"name": "Untyped"}'
    assert_error(
        await api.post("/api/experts", content=body, headers=headers), 415, "unsupported_media_type"
    )
    patch = await api.patch(f"/api/experts/{victim['expert_id']}", content=body, headers=headers)
    assert_error(patch, 415, "unsupported_media_type")
    upload = f"/api/experts/{victim['expert_id']}/documents"
    assert_error(
        await api.post(upload, content=body, headers=headers), 415, "unsupported_media_type"
    )
    assert await everything(api, victim) == before


async def test_json_and_its_dialects_are_accepted(api):
    for content_type in (
        "application/json",
        "application/json; charset=utf-8",
        "application/x+json",
    ):
        body = f'{{"name": "Typed {uuid.uuid4().hex[:6]}"}}'.encode()
        response = await api.post(
            "/api/experts", content=body, headers={"Content-Type": content_type}
        )
        assert response.status_code == 201, f"{content_type}: {response.text}"


async def test_a_request_without_a_body_needs_no_type(api):
    assert_error(await api.delete("/api/documents/no-such-document"), 404, "not_found")


# ---- the console's forms -------------------------------------------------------------------


async def test_console_forms_need_the_csrf_token(api, stack):
    before = (await api.get("/api/experts")).json()
    form = {"name": f"Forged {uuid.uuid4().hex[:6]}"}
    async with httpx.AsyncClient(base_url=stack.url) as stranger:  # no cookie at all
        refused = await stranger.post("/ui/experts", data={**form, "_csrf": "x" * 43})
        assert_error(refused, 403, "forbidden")
    token = await csrf_token(api)
    assert_error(await api.post("/ui/experts", data=form), 403, "forbidden")
    assert_error(await api.post("/ui/experts", data={**form, "_csrf": "x" * 43}), 403, "forbidden")
    wrong_header = await api.post("/ui/experts", data=form, headers={"X-CSRF-Token": token[::-1]})
    assert_error(wrong_header, 403, "forbidden")
    as_page = await api.post("/ui/experts", data=form, headers=HTML)
    assert as_page.status_code == 403 and "reload the page" in as_page.text
    as_htmx = await api.post("/ui/experts", data=form, headers=HTMX)
    assert as_htmx.status_code == 403 and 'class="alert error"' in as_htmx.text
    assert (await api.get("/api/experts")).json() == before


async def test_console_forms_work_with_the_token(api):
    token = await csrf_token(api)
    name = f"Real {uuid.uuid4().hex[:6]}"
    form = {"name": name, "domain": "Tides", "goals": "Read tables\nWarn of storms", "_csrf": token}
    created = await api.post("/ui/experts", data=form, headers={"Origin": str(api.base_url)})
    assert created.status_code == 303, created.text
    expert_id = created.headers["location"].rsplit("/", 1)[1]
    expert = (await api.get(f"/api/experts/{expert_id}")).json()  # the handler got the form
    assert (expert["name"], expert["domain"]) == (name, "Tides")
    assert expert["goals"] == ["Read tables", "Warn of storms"]

    upload = f"/ui/experts/{expert_id}/documents"
    files = [("file", ("tides.txt", b"High water at noon.\n" * 20, "text/plain"))]
    in_body = await api.post(upload, files=files, data={"_csrf": token})  # not read: streamed
    assert_error(in_body, 403, "forbidden")
    sent = await api.post(upload, files=files, params={"_csrf": token})
    assert sent.status_code == 303, sent.text
    (doc,) = (await api.get(f"/api/experts/{expert_id}/documents")).json()

    htmx = {**HTMX, "X-CSRF-Token": token}
    removed = await api.post(f"/ui/documents/{doc['id']}/delete", headers=htmx)
    assert removed.status_code == 200 and "No documents yet" in removed.text
    deleted = await api.post(f"/ui/experts/{expert_id}/delete", headers=htmx)
    assert deleted.status_code == 204


async def test_same_origin_browser_requests_work(api):
    own = {"Origin": str(api.base_url).rstrip("/"), "Sec-Fetch-Site": "same-origin"}
    created = await api.post("/api/experts", json={"name": "Same origin"}, headers=own)
    assert created.status_code == 201, created.text
    expert_id = created.json()["id"]
    patched = await api.patch(f"/api/experts/{expert_id}", json={"domain": "Own"}, headers=own)
    assert patched.status_code == 200, patched.text
    token = await csrf_token(api)
    by_form = await api.post(
        "/ui/experts", data={"name": "Same origin form", "_csrf": token}, headers=own
    )
    assert by_form.status_code == 303, by_form.text
    assert (await api.delete(f"/api/experts/{expert_id}", headers=own)).status_code == 204


# ---- response headers ----------------------------------------------------------------------


async def test_pages_carry_the_csp_and_the_token(api, victim):
    page = await api.get("/", headers=HTML)
    assert page.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "frame-ancestors 'none'" in CSP
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    cookie = page.headers["set-cookie"]
    assert {"Path=/", "SameSite=Strict", "HttpOnly"} <= {p.strip() for p in cookie.split(";")}
    token = api.cookies["simtune_csrf"]
    assert f'name="_csrf" value="{token}"' in page.text
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in page.text
    assert '"includeIndicatorStyles":false' in page.text and '"allowEval":false' in page.text

    again = await api.get(f"/experts/{victim['expert_id']}", headers=HTML)
    assert again.headers["content-security-policy"] == CSP and "set-cookie" not in again.headers
    assert f"?_csrf={token}" in again.text  # the upload form's action
    for response in (
        await api.get("/experts/nobody", headers=HTML),  # error page
        await api.get(f"/ui/experts/{victim['expert_id']}/documents", headers=HTMX),  # fragment
    ):
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-frame-options"] == "DENY"


async def test_other_responses_carry_nosniff_but_no_page_policy(api, victim):
    for path in (
        "/api/experts",
        f"/api/documents/{victim['document_id']}/file",  # opened in the browser's viewer
        "/static/simtune.js",
    ):
        response = await api.get(path)
        assert response.status_code == 200, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "content-security-policy" not in response.headers, path
        assert "set-cookie" not in response.headers, path
    reference = await api.get("/schema")
    assert reference.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert reference.headers["x-frame-options"] == "DENY"
