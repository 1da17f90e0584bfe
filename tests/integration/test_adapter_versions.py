"""Adapter versions end to end on the real stack (embedded NATS and Postgres, the session's
tiny Llama, random LoRAs made in the test): activation changes the expert's very next answer,
rollback restores it exactly, concurrent activations have one winner, protected versions stay,
damaged files are caught, and everything — tables and plain files — rebuilds equal."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile

import pytest

from contracts.base import Accepted
from contracts.registry import (
    EXPORTS,
    IMPORTS,
    AdapterExport,
    AdapterImported,
    AdapterView,
    AuditTrail,
    DeleteAdapter,
    ExportAdapter,
    GetAudit,
    ImportAdapter,
    TagAdapter,
    VerifyAdapter,
)
from contracts.trainer import BUCKET
from runtime.objects import ObjectMissing
from runtime.rpc import DomainError, request
from tests.support import waiting
from tests.support.adapters import lora_folder
from tests.support.flows import create_expert
from tests.support.objects import sealed_objects
from tests.support.versions import (
    activate,
    append_trained,
    deployed,
    greedy,
    import_folder,
    listed,
    new_versions,
    rollback,
    trained,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
async def expert(nc, stack):
    return await create_expert(nc)


def folder_of(stack, adapter_id: str):
    return stack.settings.home / "lora-adapters" / adapter_id


def on_disk(stack) -> set[str]:
    """What lies under `SIMTUNE_HOME/lora-adapters`, hidden work folders included."""
    root = stack.settings.home / "lora-adapters"
    return {p.name for p in root.iterdir()} if root.is_dir() else set()


def pointer_of(stack, expert_id: str) -> dict:
    path = stack.settings.home / "lora-adapters" / "experts" / "local" / expert_id / "active.json"
    return json.loads(path.read_text())


async def until(check, timeout: float = 15.0) -> None:
    """Wait for the file reactor, which follows the log like a view, to have done `check`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            if check():
                return
        except (OSError, ValueError, KeyError):
            pass
        assert asyncio.get_running_loop().time() < deadline, "the files never caught up"
        await asyncio.sleep(0.05)


async def test_activation_changes_the_next_answer_and_rollback_restores_it_exactly(
    nc, api, stack, servers, expert, tmp_path
):
    one, two = await new_versions(nc, servers.base_model, tmp_path, expert)
    base = await greedy(nc, expert)
    assert base.adapter_id is None

    await deployed(stack, await activate(nc, expert, one))
    first = await greedy(nc, expert)
    assert first.adapter_id == one and first.answer != base.answer
    await deployed(stack, await activate(nc, expert, two))
    second = await greedy(nc, expert)
    assert second.adapter_id == two and second.answer != first.answer

    await deployed(stack, await rollback(nc, expert))  # to the one before
    again = await greedy(nc, expert)
    assert again.adapter_id == one and again.answer == first.answer
    await deployed(stack, await rollback(nc, expert))  # to the base model
    assert (await greedy(nc, expert)).answer == base.answer

    done = await rollback(nc, expert, to=two)  # to a chosen one
    await deployed(stack, done)
    assert (await greedy(nc, expert)).answer == second.answer
    view = await listed(nc, expert, after_seq=done.seq)
    assert view.active_adapter_id == two and view.version == 5
    assert [a.id for a in view.adapters if a.is_active] == [two]
    await until(lambda: pointer_of(stack, expert)["adapterId"] == two)
    manifest = json.loads((folder_of(stack, two) / "manifest.json").read_text())
    assert manifest["isActive"] is True and manifest["id"] == two
    assert {f["name"] for f in manifest["files"]} >= {"adapter_config.json",
                                                      "adapter_model.safetensors"}  # fmt: skip

    trail = await request(nc, "qry.registry.audit", GetAudit(expert_id=expert), AuditTrail)
    actions = [(e.action, e.adapter_id, e.previous_adapter_id) for e in trail.entries]
    assert actions[:5] == [
        ("rollback", two, None),
        ("rollback", None, one),
        ("rollback", one, two),
        ("activate", two, one),
        ("activate", one, None),
    ]


async def test_of_twenty_concurrent_activations_made_on_one_view_exactly_one_wins(
    nc, servers, expert, tmp_path
):
    one, two = await new_versions(nc, servers.base_model, tmp_path, expert)
    seen = (await listed(nc, expert)).version

    async def attempt(n: int):
        try:
            return await activate(nc, expert, (one, two)[n % 2], expected_version=seen)
        except DomainError as exc:
            return exc

    results = await asyncio.gather(*(attempt(n) for n in range(20)))
    won = [r for r in results if isinstance(r, Accepted)]
    lost = [r for r in results if isinstance(r, DomainError)]
    assert len(won) == 1 and len(lost) == 19
    assert all(e.code == "conflict" and "changed since you looked" in e.detail for e in lost)

    view = await listed(nc, expert, after_seq=won[0].seq)
    assert view.version == seen + 1
    winner = view.active_adapter_id
    assert winner in (one, two)

    async def all_audited() -> list | None:
        trail = await request(nc, "qry.registry.audit", GetAudit(expert_id=expert), AuditTrail)
        found = [e for e in trail.entries if e.action == "activate"]
        return found if len(found) >= 20 else None

    # The refusals are appended just after their answers: wait until all twenty are audited.
    audited = await waiting.until(all_audited, what="all twenty activations in the audit")
    refused = [e for e in audited if e.outcome == "refused"]
    succeeded = [e for e in audited if e.outcome == "succeeded"]
    assert len(refused) == 19 and [e.adapter_id for e in succeeded] == [winner]


async def test_the_active_and_stable_versions_cannot_be_deleted(nc, stack, servers, expert,
                                                                 tmp_path):  # fmt: skip
    one, two = await new_versions(nc, servers.base_model, tmp_path, expert)
    await deployed(stack, await activate(nc, expert, one))
    await request(nc, "cmd.registry.tag", TagAdapter(adapter_id=two, add=["stable", "q3"]),
                  Accepted)  # fmt: skip

    with pytest.raises(DomainError) as active:
        await request(nc, "cmd.registry.delete", DeleteAdapter(adapter_id=one), Accepted)
    assert active.value.code == "conflict" and "is active" in active.value.detail
    with pytest.raises(DomainError) as stable:
        await request(nc, "cmd.registry.delete", DeleteAdapter(adapter_id=two), Accepted)
    assert "tagged 'stable'" in stable.value.detail

    await request(nc, "cmd.registry.tag", TagAdapter(adapter_id=two, remove=["stable"]), Accepted)
    done = await request(nc, "cmd.registry.delete", DeleteAdapter(adapter_id=two), Accepted)
    view = await listed(nc, expert, after_seq=done.seq)
    assert [a.id for a in view.adapters] == [one]
    await until(lambda: not folder_of(stack, two).exists())
    with pytest.raises(ObjectMissing), (tmp_path / "sink").open("wb") as sink:
        name = f"local/{two}/adapter_config.json"
        await sealed_objects(nc).read_into(BUCKET, name, sink, tenant="local")
    trail = await request(nc, "qry.registry.audit", GetAudit(expert_id=expert), AuditTrail)
    said = {(e.action, e.outcome) for e in trail.entries}
    assert {("delete", "refused"), ("delete", "succeeded"), ("tag", "succeeded")} <= said


async def test_a_damaged_file_makes_its_version_invalid_and_the_active_one_answers_on(
    nc, api, stack, servers, expert, tmp_path
):
    one, two = await new_versions(nc, servers.base_model, tmp_path, expert)
    await deployed(stack, await activate(nc, expert, one))
    answer = await greedy(nc, expert)
    weights = folder_of(stack, two) / "adapter_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))

    checked = await request(nc, "cmd.registry.verify", VerifyAdapter(adapter_id=two), AdapterView)
    assert checked.valid is False
    assert "adapter_model.safetensors does not match its recorded sha256" in checked.problems[0]
    with pytest.raises(DomainError) as refused:
        await deployed(stack, await activate(nc, expert, two))
    assert refused.value.code == "conflict" and "is invalid" in refused.value.detail
    assert (await greedy(nc, expert)).answer == answer.answer  # still the active one

    # The active version's own file changed under it: the expert refuses to load it.
    (folder_of(stack, one) / "adapter_config.json").write_text("{}")
    with pytest.raises(DomainError) as not_loaded:
        await greedy(nc, expert)
    assert not_loaded.value.code == "conflict"
    assert "was not loaded: adapter_config.json does not match" in not_loaded.value.detail


async def test_export_then_import_elsewhere_gives_the_same_bytes(nc, stack, servers, expert,
                                                                  tmp_path):  # fmt: skip
    (one,) = await new_versions(nc, servers.base_model, tmp_path, expert, seeds=(3,))
    export = await request(nc, "qry.registry.export", ExportAdapter(adapter_id=one),
                           AdapterExport)  # fmt: skip
    assert export.object.bucket == EXPORTS and export.filename.endswith(".tar.gz")
    other = await create_expert(nc)
    objects = sealed_objects(nc)
    data = await objects.get(export.object, tenant="local")
    ref = await objects.put(IMPORTS, f"local/round-trip-{one}", data, tenant="local")
    imported = await request(
        nc, "cmd.registry.import",
        ImportAdapter(expert_id=other, archive=ref, filename=export.filename), AdapterImported,
    )  # fmt: skip
    assert imported.adapter_id != one  # the id is taken here: the copy gets its own
    for name in ("adapter_model.safetensors", "adapter_config.json"):
        original = (folder_of(stack, one) / name).read_bytes()
        assert (folder_of(stack, imported.adapter_id) / name).read_bytes() == original
    view = await listed(nc, other, after_seq=imported.seq)
    assert view.adapters[0].source == "imported" and view.adapters[0].valid


async def test_an_archive_for_another_base_model_is_refused_and_leaves_nothing(
    nc, stack, servers, expert, tmp_path
):
    folder = lora_folder(servers.base_model, tmp_path / "foreign", seed=4)
    config = json.loads((folder / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "meta-llama/Llama-3.1-8B"
    (folder / "adapter_config.json").write_text(json.dumps(config))
    before = on_disk(stack)
    with pytest.raises(DomainError) as refused:
        await import_folder(nc, expert, folder)
    assert refused.value.code == "invalid"
    assert "trained on meta-llama/Llama-3.1-8B" in refused.value.detail
    assert on_disk(stack) == before
    assert (await listed(nc, expert)).adapters == []
    trail = await request(nc, "qry.registry.audit", GetAudit(expert_id=expert), AuditTrail)
    assert [(e.action, e.outcome) for e in trail.entries] == [("import", "refused")]


async def test_rebuilding_gives_the_same_views_and_the_same_files(nc, stack, servers, expert,
                                                                  tmp_path):  # fmt: skip
    from tests.support.views import snapshot

    one, two = await new_versions(nc, servers.base_model, tmp_path, expert, seeds=(5, 6))
    await deployed(stack, await activate(nc, expert, one))
    await request(nc, "cmd.registry.tag", TagAdapter(adapter_id=two, add=["stable"]), Accepted)
    await until(lambda: pointer_of(stack, expert)["adapterId"] == one)
    await until(lambda: "stable" in (folder_of(stack, two) / "manifest.json").read_text())
    host = stack.hosts["registry"]
    pointer = stack.settings.home / "lora-adapters" / "experts" / "local" / expert / "active.json"
    manifests = {a: (folder_of(stack, a) / "manifest.json").read_bytes() for a in (one, two)}
    live, pointed = await snapshot(host), pointer.read_bytes()

    pointer.unlink()
    for adapter_id in manifests:
        (folder_of(stack, adapter_id) / "manifest.json").unlink()
    await host.rebuild()
    assert await snapshot(host) == live
    assert pointer.read_bytes() == pointed
    for adapter_id, manifest in manifests.items():
        assert (folder_of(stack, adapter_id) / "manifest.json").read_bytes() == manifest
    await stack.hosts["expert"].rebuild()
    assert (await greedy_adapter(stack, nc, expert)) == one


async def greedy_adapter(stack, nc, expert_id: str) -> str | None:
    from sqlalchemy import text

    async with stack.hosts["expert"].engine.connect() as conn:
        row = (await conn.execute(
            text("SELECT adapter_id FROM expert.deployments WHERE expert_id = :e"),
            {"e": expert_id},
        )).first()  # fmt: skip
    return row.adapter_id if row else None


def hostile(folder, case: str) -> bytes:
    """An archive of the LoRA in `folder` spoiled one way."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in ("adapter_config.json", "adapter_model.safetensors"):
            tar.add(folder / name, arcname=name)
        if case == "path traversal":
            info = tarfile.TarInfo("../../escaped.txt")
            info.size = 3
            tar.addfile(info, io.BytesIO(b"bad"))
        elif case == "symlink":
            info = tarfile.TarInfo("metrics.json")
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
        elif case == "bad hash":
            files = [{"name": n, "sha256": "0" * 64, "size": 1}
                     for n in ("adapter_config.json", "adapter_model.safetensors")]  # fmt: skip
            manifest = json.dumps({"format": "simtune-adapter/1", "id": "x1", "createdAt": "now",
                                   "baseModel": "tiny", "files": files}).encode()  # fmt: skip
            info = tarfile.TarInfo("manifest.json")
            info.size = len(manifest)
            tar.addfile(info, io.BytesIO(manifest))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("path traversal", "escaped.txt"),
        ("symlink", "metrics.json"),
        ("bad hash", "sha256"),
        ("not an archive", "gzip"),
    ],
)
async def test_a_hostile_archive_is_refused_with_its_reason_and_leaves_nothing(
    nc, stack, servers, expert, tmp_path, case, said
):
    folder = lora_folder(servers.base_model, tmp_path / "lora", seed=9)
    data = b"just some text, not an archive" if case == "not an archive" else hostile(folder, case)
    objects = sealed_objects(nc)
    ref = await objects.put(IMPORTS, f"local/hostile-{expert}", data, tenant="local")
    before = on_disk(stack)
    cmd = ImportAdapter(expert_id=expert, archive=ref, filename="evil.tar.gz")
    with pytest.raises(DomainError) as refused:
        await request(nc, "cmd.registry.import", cmd, AdapterImported)
    assert refused.value.code == "invalid" and said in refused.value.detail
    assert on_disk(stack) == before
    assert not (stack.settings.home.parent / "escaped.txt").exists()
    with pytest.raises(ObjectMissing), (tmp_path / "sink").open("wb") as sink:
        await objects.read_into(
            IMPORTS, ref.name, sink, tenant="local"
        )  # the upload is not kept either
    assert (await listed(nc, expert)).adapters == []


async def test_a_benchmark_asks_with_any_version_and_leaves_no_trace(
    nc, stack, servers, expert, tmp_path
):
    from contracts.answers import AnswerReply, Ask, ListTraces, TracePage

    one, two = await new_versions(nc, servers.base_model, tmp_path, expert, seeds=(10, 11))
    base = await greedy(nc, expert)
    await deployed(stack, await activate(nc, expert, two))
    with_two = await greedy(nc, expert)
    await deployed(stack, await activate(nc, expert, one))
    traces = await request(nc, "qry.expert.traces", ListTraces(expert_id=expert), TracePage)

    async def measured(adapter: str) -> AnswerReply:
        ask = Ask(expert_id=expert, question="What is the rule?", mode="closed", max_tokens=12,
                  temperature=0.0, adapter=adapter, purpose="benchmark")  # fmt: skip
        return await request(nc, "cmd.expert.ask", ask, AnswerReply, timeout=60.0)

    chosen = await measured(two)
    assert chosen.adapter_id == two and chosen.answer == with_two.answer and chosen.seq == 0
    assert (await measured("base")).answer == base.answer
    after = await request(nc, "qry.expert.traces", ListTraces(expert_id=expert), TracePage)
    assert len(after.traces) == len(traces.traces)  # measured, not recorded
    with pytest.raises(DomainError) as unknown:
        await measured("nosuchversion")
    assert unknown.value.code == "not_found"


async def test_a_trained_version_is_its_adapter_files_only_and_exports(
    nc, stack, servers, expert, tmp_path
):
    folder = lora_folder(servers.base_model, tmp_path / "with-readme", seed=6)
    (folder / "README.md").write_text("# model card a saver wrote\n")  # as PEFT's saver does
    ev = await trained(nc, expert, folder)
    assert "README.md" in [f.name for f in ev.files]
    await append_trained(stack.hosts["trainer"], ev)

    async def registered():
        view = await listed(nc, expert)
        return next((a for a in view.adapters if a.id == ev.adapter_id), None)

    version = await waiting.until(registered, timeout=30, what="the trained version")
    assert version.valid
    export = await request(nc, "qry.registry.export", ExportAdapter(adapter_id=ev.adapter_id),
                           AdapterExport)  # fmt: skip
    data = await sealed_objects(nc).get(export.object, tenant="local")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        names = sorted(tar.getnames())
    assert "README.md" not in names and "adapter_model.safetensors" in names
