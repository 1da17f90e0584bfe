"""`simtune registry` against the real gateway and registry: two versions imported from tiny
archives and listed; one activated (the list and `GET /api/lora/active` agree) and rolled
back to the base model; tags, and a stable version that cannot be deleted; an export that
`tarfile` opens; the audit trail as CSV; unknown and ambiguous adapter prefixes as one line.

One expert and its two versions serve the whole module (building a LoRA and importing it is
the slow part); each test leaves the base model active and the tags as it found them."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tarfile
from pathlib import Path

import httpx
import pytest

from cli.client import CliError
from cli.resolve import resolve_adapter
from runtime.adapter_files import adapter_folder
from tests.integration.test_cli import Simtune, created_expert, one_line_error, unique
from tests.support.accounts import OWNER
from tests.support.adapters import lora_folder, tar_gz

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def run(stack) -> Simtune:
    return Simtune(stack.url, stack.owner.key)


@pytest.fixture(scope="module")
def archives(servers, tmp_path_factory) -> list[Path]:
    """Two tiny LoRA archives on the session's base model (different weights)."""
    folder = tmp_path_factory.mktemp("archives")
    paths = []
    for seed in (1, 2):
        path = folder / f"v{seed}.tar.gz"
        path.write_bytes(tar_gz(lora_folder(servers.base_model, folder / f"lora{seed}", seed=seed)))
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
async def expert(run, stack) -> dict:
    async with httpx.AsyncClient(base_url=stack.url, headers=stack.owner.headers) as api:
        return await created_expert(run, api, "Cartographer")


@pytest.fixture(scope="module")
async def versions(run, expert, archives) -> list[str]:
    """The two versions' ids, oldest first, each imported with `simtune registry import`."""
    ids = []
    for archive in archives:
        imported = await run("registry", "import", expert["name"], str(archive))
        assert imported.exit_code == 0, imported.stderr
        found = re.search(rf"Imported {archive.name} as adapter (\w+) of ", imported.stdout)
        assert found, imported.stdout
        ids.append(found.group(1))
    return ids


def row_of(listing: str, adapter_id: str) -> str:
    return next(line for line in listing.splitlines() if adapter_id in line)


async def active(api, expert_id: str) -> str | None:
    reply = await api.get("/api/lora/active", params={"expert_id": expert_id})
    assert reply.status_code == 200, reply.text
    return reply.json()["adapter_id"]


async def test_imported_versions_are_listed_with_the_base_model_active(run, api, expert, versions):
    listed = await run("registry", "list", expert["name"])
    assert listed.exit_code == 0, listed.stderr
    for adapter_id in versions:
        row = row_of(listed.stdout, adapter_id)
        assert "imported" in row and " valid " in row and "●" not in row
    assert "Active: base model" in listed.stdout

    as_json = await run("registry", "list", expert["id"], "--json")
    assert as_json.exit_code == 0, as_json.stderr
    adapters = json.loads(as_json.stdout)
    assert {a["id"] for a in adapters} == set(versions)
    assert all(a["expert_id"] == expert["id"] and not a["is_active"] for a in adapters)

    shown = await run("registry", "show", expert["name"], versions[0][:8])
    assert shown.exit_code == 0, shown.stderr
    view = (await api.get(f"/api/lora/{versions[0]}")).json()
    assert versions[0] in shown.stdout and "adapter_config.json" in shown.stdout
    for f in view["files"]:
        assert f["sha256"] in shown.stdout

    verified = await run("registry", "verify", expert["name"], versions[0])
    assert verified.exit_code == 0, verified.stderr
    assert f"Adapter {versions[0]} is valid" in verified.stdout


async def test_activate_marks_the_version_and_rollback_returns_to_the_base_model(
    run, api, expert, versions
):
    first = versions[0]
    activated = await run("registry", "activate", expert["name"], first[:10])
    assert activated.exit_code == 0, activated.stderr
    assert f"{expert['name']} now answers with {first} (was the base model)" in activated.stdout
    assert await active(api, expert["id"]) == first

    listed = await run("registry", "list", expert["name"])
    assert "●" in row_of(listed.stdout, first) and "●" not in row_of(listed.stdout, versions[1])
    assert f"Active: {first}" in listed.stdout

    rolled = await run("registry", "rollback", expert["name"])
    assert rolled.exit_code == 0, rolled.stderr
    assert f"now answers with the base model (was {first})" in rolled.stdout
    assert await active(api, expert["id"]) is None

    assert (await run("registry", "activate", expert["name"], versions[1])).exit_code == 0
    back = await run("registry", "rollback", expert["name"], "--to", "base")
    assert back.exit_code == 0, back.stderr
    assert f"now answers with the base model (was {versions[1]})" in back.stdout
    assert await active(api, expert["id"]) is None
    again = await run("registry", "activate", expert["name"], "base")
    assert "already answers with the base model" in again.stdout


async def test_a_stable_version_cannot_be_deleted_and_says_why(run, api, expert, versions):
    name, first = expert["name"], versions[0]
    tagged = await run("registry", "tag", name, first, "--add", "stable", "--add", "atlas")
    assert tagged.exit_code == 0, tagged.stderr
    assert f"Adapter {first} is tagged: " in tagged.stdout and "stable" in tagged.stdout
    assert set((await api.get(f"/api/lora/{first}")).json()["tags"]) >= {"stable", "atlas"}

    one_line_error(await run("registry", "delete", name, first, "--yes"), "stable")
    one_line_error(await run("registry", "delete", name, first, input="n\n"), "nothing")
    assert (await api.get(f"/api/lora/{first}")).status_code == 200

    untagged = await run("registry", "tag", name, first, "--remove", "stable", "--remove", "atlas")
    assert untagged.exit_code == 0, untagged.stderr
    assert (await api.get(f"/api/lora/{first}")).json()["tags"] == []
    one_line_error(await run("registry", "tag", name, first), "--add")


async def test_a_changed_version_fails_verify_and_can_be_deleted(
    run, api, expert, servers, tmp_path
):
    folder = lora_folder(servers.base_model, tmp_path / "lora", seed=3)
    archive = tmp_path / "third.tar.gz"
    archive.write_bytes(tar_gz(folder))
    imported = await run("registry", "import", expert["name"], str(archive))
    assert imported.exit_code == 0, imported.stderr
    adapter_id = re.search(r"as adapter (\w+) of", imported.stdout).group(1)

    with (adapter_folder(servers.home, adapter_id) / "adapter_model.safetensors").open("ab") as f:
        f.write(b"tampered")
    one_line_error(
        await run("registry", "verify", expert["name"], adapter_id),
        f"adapter {adapter_id} is invalid:",
        "adapter_model.safetensors",
    )
    listed = await run("registry", "list", expert["name"])
    assert "invalid" in row_of(listed.stdout, adapter_id)

    deleted = await run("registry", "delete", expert["name"], adapter_id, "--yes")
    assert deleted.exit_code == 0, deleted.stderr
    assert f"Deleted adapter {adapter_id}" in deleted.stdout
    assert (await api.get(f"/api/lora/{adapter_id}")).status_code == 404
    assert adapter_id not in (await run("registry", "list", expert["name"])).stdout


async def test_export_writes_an_archive_that_tarfile_opens(
    run, expert, versions, tmp_path, monkeypatch
):
    target = tmp_path / "out" / "atlas.tar.gz"
    target.parent.mkdir()
    exported = await run("registry", "export", expert["name"], versions[1], "-o", str(target))
    assert exported.exit_code == 0, exported.stderr
    assert f"Wrote {target} (" in exported.stdout
    with tarfile.open(target, "r:gz") as tar:
        names = {Path(n).name for n in tar.getnames()}
    assert {"adapter_config.json", "manifest.json"} <= names
    assert os.listdir(target.parent) == ["atlas.tar.gz"]  # no partial file left behind

    monkeypatch.chdir(target.parent)
    named = await run("registry", "export", expert["name"], versions[0][:6])
    assert named.exit_code == 0, named.stderr
    assert tarfile.is_tarfile(target.parent / f"{versions[0]}.tar.gz")


async def test_the_audit_trail_as_csv_has_the_activation(run, expert, versions, tmp_path):
    name, second = expert["name"], versions[1]
    assert (await run("registry", "activate", name, second)).exit_code == 0
    assert (await run("registry", "activate", name, "base")).exit_code == 0

    as_csv = await run("registry", "audit", name, "--format", "csv", "--action", "activate")
    assert as_csv.exit_code == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    mine = [r for r in rows if r["adapter_id"] == second]
    assert mine and mine[0]["outcome"] == "succeeded"
    assert mine[0]["by"].startswith(OWNER)  # the person whose key the CLI sent
    assert {r["action"] for r in rows} == {"activate"}

    target = tmp_path / "audit.csv"
    written = await run("registry", "audit", name, "--format", "csv", "-o", str(target))
    assert written.exit_code == 0, written.stderr
    assert any(r["adapter_id"] == second for r in csv.DictReader(target.open()))

    table = await run("registry", "audit", name, "--outcome", "succeeded")
    assert table.exit_code == 0, table.stderr
    assert "activate" in table.stdout and "import" in table.stdout
    one_line_error(await run("registry", "audit", name, "--outcome", "maybe"), "--outcome")
    one_line_error(await run("registry", "audit", name, "--action", "fly"), "--action", "tag")
    one_line_error(await run("registry", "audit", name, "-o", str(target)), "--format")


async def test_unknown_adapters_and_bad_archives_are_one_line(run, expert, versions, tmp_path):
    name = expert["name"]
    junk = tmp_path / "notes.tar.gz"
    junk.write_text("not an archive")
    one_line_error(await run("registry", "import", name, str(junk)), "notes.tar.gz", "not a")
    one_line_error(
        await run("registry", "show", name, "zzzz"), "no adapter whose id starts with 'zzzz'"
    )
    one_line_error(await run("registry", "activate", name, "zzzz"), "zzzz")
    one_line_error(await run("registry", "export", name, "zzzz"), "zzzz")

    other = unique("Stranger")
    assert (await run("experts", "create", other)).exit_code == 0
    one_line_error(await run("registry", "show", other, versions[0]), other, "no adapter")
    one_line_error(await run("registry", "list", unique("Nobody")), "no expert")


def test_a_prefix_that_several_ids_start_with_is_refused_naming_them():
    adapters = [{"id": "ab12"}, {"id": "ab34"}, {"id": "ab"}]
    assert resolve_adapter(adapters, "ab", "Ada")["id"] == "ab"  # a whole id wins
    assert resolve_adapter(adapters, "ab3", "Ada")["id"] == "ab34"
    with pytest.raises(CliError, match="2 adapters of Ada start with 'ab': ab12, ab34"):
        resolve_adapter(adapters[:2], "ab", "Ada")
    with pytest.raises(CliError, match="is needed"):
        resolve_adapter(adapters, "  ", "Ada")
