"""The adapters API against the real gateway and registry, with tiny LoRAs on the session's
base model imported as archives: an import is listed valid with its size; activating one
makes `/api/lora/active` name it and the list mark it; a stale `expected_version` is a 409
and changes nothing; tags come and go; the active or a `stable` version cannot be deleted
(409 saying why), another one can; an export is a .tar.gz with the adapter and its manifest;
an archive over the limit is a 413 and one that is no archive a 400, neither listed; rollback
goes back to the version before; the audit trail reads the same as JSON and as CSV.
"""

from __future__ import annotations

import csv
import io
import os
import tarfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import serve_gateway
from tests.support.adapters import import_archive, lora_folder, tar_gz
from tests.support.api import new_expert

pytestmark = pytest.mark.integration


def tiny_archives(base_model: Path, root: Path) -> list[bytes]:
    """Three different tiny LoRAs, each packed as a .tar.gz."""
    return [tar_gz(lora_folder(base_model, root / f"lora{n}", seed=n)) for n in (1, 2, 3)]


@pytest.fixture(scope="module")
def archives(servers, tmp_path_factory) -> list[bytes]:
    return tiny_archives(servers.base_model, tmp_path_factory.mktemp("loras"))


async def imported(api: httpx.AsyncClient, expert_id: str, archive: bytes) -> dict:
    response = await import_archive(api, expert_id, archive)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/lora/{response.json()['id']}"
    return response.json()


async def listed(api: httpx.AsyncClient, expert_id: str) -> list[dict]:
    response = await api.get("/api/lora", params={"expert_id": expert_id})
    assert response.status_code == 200, response.text
    return response.json()


async def activate(api: httpx.AsyncClient, adapter_id: str, **body) -> httpx.Response:
    return await api.post(f"/api/lora/{adapter_id}/activate", json=body or None)


async def test_an_imported_adapter_is_listed_valid_with_its_size(api, archives):
    expert = await new_expert(api)
    view = await imported(api, expert["id"], archives[0])
    assert view["valid"] is True and view["size_bytes"] > 0 and view["source"] == "imported"
    assert view["expert_id"] == expert["id"] and not view["is_active"]
    assert {"adapter_config.json"} <= {f["name"] for f in view["files"]}

    versions = await listed(api, expert["id"])
    assert [v["id"] for v in versions] == [view["id"]]
    for key in ("id", "expert_id", "created_at", "base_model", "backend", "dataset_id",
                "run_id", "metrics", "tags", "is_active", "valid", "size_bytes"):  # fmt: skip
        assert key in versions[0], key
    assert (await api.get(f"/api/lora/{view['id']}")).json()["id"] == view["id"]


async def test_activation_is_what_active_names_and_the_list_marks(api, archives):
    expert = await new_expert(api)
    first, second = [await imported(api, expert["id"], a) for a in archives[:2]]
    before = (await api.get("/api/lora/active", params={"expert_id": expert["id"]})).json()
    assert before["adapter_id"] is None  # the base model

    response = await activate(api, second["id"], expected_version=before["version"])
    assert response.status_code == 200, response.text
    assert response.json()["adapter_id"] == second["id"]
    now = (await api.get("/api/lora/active", params={"expert_id": expert["id"]})).json()
    assert now["adapter_id"] == second["id"] and now["version"] > before["version"]
    marked = {v["id"]: v["is_active"] for v in await listed(api, expert["id"])}
    assert marked == {first["id"]: False, second["id"]: True}

    stale = await activate(api, first["id"], expected_version=before["version"])
    assert stale.status_code == 409, stale.text
    assert stale.json()["error"] == "conflict"
    again = (await api.get("/api/lora/active", params={"expert_id": expert["id"]})).json()
    assert again["adapter_id"] == second["id"]  # nothing changed

    base = await api.post("/api/lora/base/activate", params={"expert_id": expert["id"]})
    assert base.status_code == 200, base.text
    assert base.json()["adapter_id"] is None


async def test_the_list_names_the_deployment_version_to_send_back(api, archives):
    expert = await new_expert(api)
    view = await imported(api, expert["id"], archives[0])
    response = await api.get("/api/lora", params={"expert_id": expert["id"]})
    seen = int(response.headers["x-deployment-version"])
    assert (await activate(api, view["id"], expected_version=seen)).status_code == 200
    stale = await api.post(
        "/api/lora/base/activate",
        params={"expert_id": expert["id"]},
        json={"expected_version": seen},
    )
    assert stale.status_code == 409, stale.text


async def test_tags_are_added_and_removed(api, archives):
    expert = await new_expert(api)
    view = await imported(api, expert["id"], archives[0])
    tagged = await api.post(f"/api/lora/{view['id']}/tag", json={"add": ["stable", "try-me"]})
    assert tagged.status_code == 200, tagged.text
    assert set(tagged.json()["tags"]) == {"stable", "try-me"}
    untagged = await api.post(f"/api/lora/{view['id']}/tag", json={"remove": ["try-me"]})
    assert untagged.json()["tags"] == ["stable"]
    assert (await listed(api, expert["id"]))[0]["tags"] == ["stable"]


async def test_the_active_and_stable_versions_cannot_be_deleted_another_can(api, archives):
    expert = await new_expert(api)
    active, stable, spare = [await imported(api, expert["id"], a) for a in archives]
    assert (await activate(api, active["id"])).status_code == 200
    await api.post(f"/api/lora/{stable['id']}/tag", json={"add": ["stable"]})

    for kept in (active, stable):
        refused = await api.delete(f"/api/lora/{kept['id']}")
        assert refused.status_code == 409, refused.text
        assert len(refused.json()["detail"].split()) > 3  # a sentence saying why

    gone = await api.delete(f"/api/lora/{spare['id']}")
    assert gone.status_code == 204, gone.text
    assert (await api.get(f"/api/lora/{spare['id']}")).status_code == 404
    assert {v["id"] for v in await listed(api, expert["id"])} == {active["id"], stable["id"]}


async def test_an_export_is_a_tar_gz_with_the_adapter_and_its_manifest(api, archives):
    expert = await new_expert(api)
    view = await imported(api, expert["id"], archives[0])
    response = await api.get(f"/api/lora/{view['id']}/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/gzip")
    assert "attachment" in response.headers["content-disposition"]
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as tar:
        names = {os.path.basename(m.name) for m in tar.getmembers() if m.isfile()}
    assert {"adapter_config.json", "manifest.json"} <= names

    again = await import_archive(api, (await new_expert(api))["id"], response.content)
    assert again.status_code == 201, again.text  # an export imports elsewhere as it is


async def test_an_archive_over_the_limit_is_a_413_and_nothing_is_listed(api, servers):
    expert = await new_expert(api)
    url, server, task = await serve_gateway(servers.settings(SIMTUNE_MAX_ADAPTER_MB="1"))
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30.0, headers=api.headers) as small:
            big = b"\x1f\x8b" + os.urandom(1024 * 1024 + 200 * 1024)
            response = await import_archive(small, expert["id"], big)
    finally:
        server.should_exit = True
        await task
    assert response.status_code == 413, response.text
    assert "at most 1 MB" in response.json()["detail"]
    assert await listed(api, expert["id"]) == []


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "is empty"),
        (b"just some text, not an archive at all\n" * 20, "not a .tar.gz"),
    ],
    ids=["empty", "text"],
)
async def test_a_file_that_is_no_adapter_archive_is_a_400_saying_why(api, data, words):
    expert = await new_expert(api)
    response = await import_archive(api, expert["id"], data, filename="notes.tar.gz")
    assert response.status_code == 400, response.text
    assert words in response.json()["detail"] and "notes.tar.gz" in response.json()["detail"]
    assert await listed(api, expert["id"]) == []


async def test_a_gzip_without_an_adapter_is_a_400_from_the_registry(api, tmp_path):
    expert = await new_expert(api)
    (tmp_path / "readme.txt").write_text("no adapter here")
    response = await import_archive(api, expert["id"], tar_gz(tmp_path))
    assert response.status_code == 400, response.text
    assert response.json()["detail"]
    assert await listed(api, expert["id"]) == []


async def test_rollback_goes_back_to_the_version_before(api, archives):
    expert = await new_expert(api)
    first, second = [await imported(api, expert["id"], a) for a in archives[:2]]
    await activate(api, first["id"])
    await activate(api, second["id"])
    back = await api.post("/api/lora/rollback", json={"expert_id": expert["id"]})
    assert back.status_code == 200, back.text
    assert back.json()["adapter_id"] == first["id"]
    chosen = await api.post(
        "/api/lora/rollback", json={"expert_id": expert["id"], "to_adapter_id": "base"}
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["adapter_id"] is None


async def test_the_audit_trail_reads_the_same_as_json_and_csv(api, archives):
    expert = await new_expert(api)
    view = await imported(api, expert["id"], archives[0])
    await api.post(f"/api/lora/{view['id']}/tag", json={"add": ["stable"]})
    await activate(api, view["id"], reason="=looks good")
    assert (await api.delete(f"/api/lora/{view['id']}")).status_code == 409  # refused, audited

    params = {"expert_id": expert["id"]}
    entries = (await api.get("/api/lora/audit", params=params)).json()
    actions = [(e["action"], e["outcome"]) for e in entries]
    assert ("activate", "succeeded") in actions and ("delete", "refused") in actions

    response = await api.get("/api/lora/audit", params={**params, "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["seq"] for r in rows] == [str(e["seq"]) for e in entries]
    assert [(r["action"], r["outcome"]) for r in rows] == actions
    reasons = [r["reason"] for r in rows if r["action"] == "activate"]
    assert reasons == ["'=looks good"]  # never a formula in a spreadsheet

    refused = await api.get("/api/lora/audit", params={**params, "outcome": "refused"})
    assert {e["outcome"] for e in refused.json()} == {"refused"}


async def test_the_audit_trail_names_the_signed_in_person_whatever_a_header_claims(
    api, archives, stack
):
    expert = await new_expert(api)
    view = await imported(api, expert["id"], archives[0])
    await api.post(f"/api/lora/{view['id']}/activate", headers={"X-Simtune-Actor": "cli"})
    await api.post("/api/lora/base/activate", params={"expert_id": expert["id"]})
    entries = (await api.get("/api/lora/audit", params={"expert_id": expert["id"],
                                                        "action": "activate"})).json()  # fmt: skip
    actors = [e["by"] for e in sorted(entries, key=lambda e: e["seq"])]
    assert len(actors) == 2 and all(a.startswith(stack.owner.email) for a in actors), actors


async def test_unknown_ids_and_experts_are_404s_never_500s(api):
    expert = await new_expert(api)
    for method, url in [
        ("GET", "/api/lora/nope"),
        ("POST", "/api/lora/nope/activate"),
        ("POST", "/api/lora/nope/verify"),
        ("DELETE", "/api/lora/nope"),
        ("GET", "/api/lora/nope/export"),
        ("GET", "/api/lora?expert_id=nope"),
        ("GET", "/api/lora/active?expert_id=nope"),
        ("GET", "/api/lora/audit?expert_id=nope"),
    ]:
        response = await api.request(method, url)
        assert response.status_code == 404, (method, url, response.text)
    missing = await api.post("/api/lora/base/activate")
    assert missing.status_code == 400 and "expert_id" in missing.json()["detail"]
    assert (
        await api.get("/api/lora/active", params={"expert_id": expert["id"]})
    ).status_code == 200
