"""Export my data and import it elsewhere, on the real stack, each person signed in.

One person makes one of everything (an expert with a style guide, a document, an answer with
feedback and an edit, a dataset version, an adapter version made active, a custom benchmark
question and a benchmark run); their export holds each of those, its manifest verifies and
nothing of another person is in it. A damaged archive is refused with the sentence naming its
file and creates nothing; the good archive imported by a new person restores the expert:
search finds the document's passage, an answer cites it, and the active adapter is the
imported one (the same files). A person who made nothing gets an archive with nothing in
it. The jobs' faults: a poison export is decided as failed with a
sentence, an export whose service stops midway is finished by the next one, and a replay of
the jobs' view equals the live one.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile

import httpx
import msgspec
import pytest
from sqlalchemy import text

from contracts.accounts import (
    CONTEXT,
    EXPORT_AGGREGATE,
    MANIFEST,
    ArchiveRefused,
    ExportRequested,
    check_archive,
)
from contracts.answers import AnswerReply, Ask, GiveFeedback
from contracts.benchmark import AddQuestions, BenchAccepted, GetBenchmark, Question, StartBenchmark
from contracts.dataset import BuildDataset, BuildSpec, GetDataset, Sources
from contracts.expert import CreateExpert, ListExperts, Profile, StyleGuide
from contracts.ingest import DOCUMENTS_BUCKET, RegisterUpload, UploadRegistered
from contracts.knowledge import Search
from contracts.registry import IMPORTS as ADAPTER_IMPORTS
from contracts.registry import ActivateAdapter, AdapterImported, ImportAdapter, ListAdapters
from runtime.rpc import ask
from services.accounts.exports.exporting import work_root
from tests.integration.test_cli import Simtune
from tests.support.accounts import Person, person, session_cookie
from tests.support.adapters import lora_folder, tar_gz
from tests.support.api import HTML, HTMX, ui_post
from tests.support.inprocess import start_service
from tests.support.objects import sealed_objects
from tests.support.waiting import until

pytestmark = pytest.mark.integration

PASSAGE = (
    "The heron valve must be bled for exactly forty seconds before the pump is restarted. "
    "Bleeding it for less leaves air in the line and the pump cavitates."
)
TEXT = f"# Heron pump manual\n\n## Restarting\n\n{PASSAGE}\n"
QUESTION = "How long must the heron valve be bled before the pump is restarted?"
EDIT = "Bleed the heron valve for forty seconds, then restart the pump (edited by a person)."
STYLE = StyleGuide(tone="calm and exact", do=["cite the manual"], dont=["guess"])
CUSTOM = Question(
    id="heron-bleed", domain="science", question=QUESTION, reference="forty seconds",
    source="custom",
)  # fmt: skip
MANUAL = "\n".join(
    json.dumps({"question": f"Heron question {i}?", "answer": f"Heron answer {i}."})
    for i in range(8)
)
OTHERS = "Otter canary 7f3c: this belongs to someone else entirely."


async def told(nc, message, tenant: str, timeout: float = 60.0):
    return await ask(nc, msgspec.structs.replace(message, tenant=tenant), timeout=timeout)


async def upload_text(nc, tenant: str, expert_id: str, name: str, body: str) -> UploadRegistered:
    data = body.encode()
    sha = hashlib.sha256(data).hexdigest()
    ref = await sealed_objects(nc).put(
        DOCUMENTS_BUCKET, f"{tenant}/{expert_id}/{sha}", data, tenant=tenant
    )
    cmd = RegisterUpload(expert_id=expert_id, filename=name, media_type="text/markdown", object=ref)
    return await told(nc, cmd, tenant)


async def searchable(nc, tenant: str, expert_id: str, words: str) -> list:
    found = await told(nc, Search(expert_id=expert_id, q=words, k=3), tenant)
    return [hit for hit in found.results if "forty seconds" in hit.text]


async def job_done(client: httpx.AsyncClient, kind: str, job: dict, timeout: float = 240.0) -> dict:
    async def ended():
        reply = await client.get(f"/api/me/{kind}/{job['job_id']}")
        assert reply.status_code == 200, reply.text
        return reply.json() if reply.json()["status"] != "running" else None

    return await until(ended, timeout=timeout, what=f"the {kind} job to end")


def signed(stack, who: Person) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.url, timeout=120.0, headers=who.headers)


class Made(msgspec.Struct):
    who: Person
    expert_id: str
    document_id: str
    answer_id: str
    dataset_id: str
    adapter_id: str
    adapter_sha: str
    run_id: str
    archive: bytes


@pytest.fixture(scope="module")
async def made(stack, nc, servers, tmp_path_factory) -> Made:
    """One person's one of everything, and their export; another person's expert beside."""
    who, other = await person(nc), await person(nc)
    t = who.tenant
    profile = Profile(
        name="Heron pump expert", description="Knows the heron pump.", style_guide=STYLE
    )
    expert_id = (await told(nc, CreateExpert(profile=profile), t)).id
    other_expert = (
        await told(nc, CreateExpert(profile=Profile(name="Otter expert")), other.tenant)
    ).id
    await upload_text(nc, other.tenant, other_expert, "otter.md", f"# Otters\n\n{OTHERS}\n")
    doc = (await upload_text(nc, t, expert_id, "heron.md", TEXT)).document
    await until(
        lambda: searchable(nc, t, expert_id, "heron valve bled"), timeout=120, what="indexing"
    )
    answer = await told(
        nc, Ask(expert_id=expert_id, question=QUESTION, mode="rag", max_tokens=16), t
    )
    await told(nc, GiveFeedback(answer_id=answer.answer_id, rating=2, edited_answer=EDIT), t)
    spec = BuildSpec(sources=Sources())
    built = await told(nc, BuildDataset(expert_id=expert_id, spec=spec, manual_jsonl=MANUAL), t)
    folder = lora_folder(servers.base_model, tmp_path_factory.mktemp("lora") / "a", seed=3)
    data = tar_gz(folder)
    ref = await sealed_objects(nc).put(
        ADAPTER_IMPORTS, f"{t}/test-{uuid.uuid4().hex}", data, tenant=t
    )
    imported = await told(
        nc, ImportAdapter(expert_id=expert_id, archive=ref, filename="a.tar.gz"), t
    )
    assert isinstance(imported, AdapterImported) and imported.valid
    await told(nc, ActivateAdapter(expert_id=expert_id, adapter_id=imported.adapter_id), t)
    listed = await told(nc, ListAdapters(expert_id=expert_id), t)
    sha = next(a.sha256 for a in listed.adapters if a.id == imported.adapter_id)
    await told(nc, AddQuestions(expert_id=expert_id, questions=[CUSTOM]), t)
    run = await told(nc, StartBenchmark(expert_id=expert_id, suite="custom"), t)
    assert isinstance(run, BenchAccepted)
    await finished_for(nc, t, run)

    async def ready():
        view = await told(nc, GetDataset(dataset_id=built.id), t)
        return view.status == "ready"

    await until(ready, timeout=120, what="the dataset build")
    async with signed(stack, who) as client:
        started = await client.post("/api/me/export")
        assert started.status_code == 202, started.text
        body = started.json()
        assert body["status"] == "running" and 0 <= body["progress"] <= 1
        job = await job_done(client, "export", body)
        assert job["status"] == "ready", job
        assert job["done"] == job["total"] and job["progress"] == 1
        archive = (await client.get(job["download_url"])).content
    return Made(who=who, expert_id=expert_id, document_id=doc.id, answer_id=answer.answer_id,
                dataset_id=built.id, adapter_id=imported.adapter_id, adapter_sha=sha,
                run_id=run.run_id, archive=archive)  # fmt: skip


async def finished_for(nc, tenant: str, run: BenchAccepted) -> None:
    async def ended():  # read once the view shows the run queued (read-your-writes)
        view = await told(nc, GetBenchmark(run_id=run.run_id, after_seq=run.seq), tenant)
        return view.status in ("succeeded", "failed", "cancelled")

    await until(ended, timeout=240, what="the benchmark run")


def members(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


async def test_an_export_holds_everything_the_person_made_and_its_manifest_verifies(made):
    manifest = check_archive(io.BytesIO(made.archive))
    files = members(made.archive)
    assert next(iter(files)) == MANIFEST  # the manifest comes first
    assert set(manifest.files) == set(files) - {MANIFEST}
    base = f"experts/{made.expert_id}"
    profile = json.loads(files[f"{base}/profile.json"])
    assert profile["name"] == "Heron pump expert"
    assert profile["style_guide"]["tone"] == "calm and exact"
    documents = json.loads(files[f"{base}/documents.json"])
    assert [d["id"] for d in documents] == [made.document_id]
    assert files[documents[0]["file"]] == TEXT.encode()
    traces = [json.loads(line) for line in files[f"{base}/traces.jsonl"].splitlines()]
    trace = next(t for t in traces if t["answer_id"] == made.answer_id)
    assert trace["feedback"]["edited_answer"] == EDIT and trace["question"] == QUESTION
    train = files[f"{base}/datasets/{made.dataset_id}.train.jsonl"].decode()
    assert all("messages" in json.loads(line) for line in train.splitlines())
    assert "Heron answer" in train + files[f"{base}/datasets/{made.dataset_id}.val.jsonl"].decode()
    adapters = json.loads(files[f"{base}/adapters.json"])
    assert adapters["active_adapter_id"] == made.adapter_id
    packed = zipfile.ZipFile(io.BytesIO(made.archive)).read(
        f"{base}/adapters/{made.adapter_id}.tar.gz"
    )
    assert packed[:2] == b"\x1f\x8b"
    assert json.loads(files[f"{base}/benchmarks/{made.run_id}.json"])["run_id"] == made.run_id
    assert files[f"{base}/benchmarks/{made.run_id}.csv"].startswith(b"question_id,")
    assert CUSTOM.question.encode() in files[f"{base}/benchmarks/questions.jsonl"]
    assert isinstance(json.loads(files[f"{base}/finetune/runs.json"]), list)
    audit = json.loads(files[f"{base}/audit.json"])
    assert any(e["action"] == "activate" or "activ" in e["action"] for e in audit)
    assert manifest.counts["experts"] == 1 and manifest.counts["documents"] == 1
    assert manifest.counts["adapters"] == 1 and manifest.counts["feedback"] == 1
    # nothing of another person, and no tenant in the manifest
    assert not any(OTHERS.encode() in data for data in files.values())
    assert made.who.tenant.encode() not in files[MANIFEST]


async def test_another_persons_job_is_not_found(stack, nc, made):
    stranger = await person(nc)
    async with signed(stack, stranger) as client:
        mine = await client.post("/api/me/export")
        job_id = mine.json()["job_id"]
        # they have made nothing yet: their archive is made all the same, with nothing in it
        ended = await job_done(client, "export", mine.json())
        assert ended["status"] == "ready", ended
        empty = (await client.get(ended["download_url"])).content
    manifest = check_archive(io.BytesIO(empty))
    assert set(manifest.counts.values()) == {0} and set(members(empty)) == {MANIFEST}
    async with signed(stack, made.who) as client:
        assert (await client.get(f"/api/me/export/{job_id}")).status_code == 404
        assert (await client.get(f"/api/me/export/{job_id}/download")).status_code == 404


async def test_a_damaged_archive_is_refused_naming_its_file_and_creates_nothing(stack, nc, made):
    newcomer = await person(nc)
    files = members(made.archive)
    victim = next(p for p in files if p.endswith("documents.json"))
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data + b" " if name == victim else data)
    with pytest.raises(ArchiveRefused, match=victim):
        check_archive(io.BytesIO(damaged.getvalue()))
    async with signed(stack, newcomer) as client:
        for body in (damaged.getvalue(), b"PK\x03\x04 not really a zip", b"plain text"):
            reply = await client.post(
                "/api/me/import", files={"file": ("me.zip", body, "application/zip")}
            )
            assert reply.status_code == 400, reply.text
        assert (
            victim
            in (
                await client.post("/api/me/import", files={"file": ("me.zip", damaged.getvalue())})
            ).json()["detail"]
        )
    assert (await told(nc, ListExperts(), newcomer.tenant)).experts == []


async def test_an_imported_archive_restores_the_experts(stack, nc, made):
    newcomer = await person(nc)
    t = newcomer.tenant
    async with signed(stack, newcomer) as client:
        started = await client.post(
            "/api/me/import", files={"file": ("me.zip", made.archive, "application/zip")}
        )
        assert started.status_code == 202, started.text
        job = await job_done(client, "import", started.json())
    assert job["status"] == "done", job
    kinds = {item["kind"] for item in job["restored"]}
    assert {"expert", "document", "adapter", "active_adapter", "question", "dataset"} <= kinds
    assert job["kept"]["traces"] >= 1 and job["kept"]["benchmark_runs"] >= 1
    (expert,) = (await told(nc, ListExperts(), t)).experts
    assert expert.name == "Heron pump expert" and expert.style_guide == STYLE
    hits = await until(
        lambda: searchable(nc, t, expert.id, "heron valve bled"), timeout=120, what="search"
    )
    assert hits[0].filename == "heron.md"
    answer = await told(
        nc, Ask(expert_id=expert.id, question=QUESTION, mode="rag", max_tokens=16), t
    )
    assert isinstance(answer, AnswerReply)
    assert hits[0].document_id in {c.document_id for c in answer.citations}
    listed = await told(nc, ListAdapters(expert_id=expert.id), t)
    active = next(a for a in listed.adapters if a.id == listed.active_adapter_id)
    assert active.sha256 == made.adapter_sha  # the same files, now this expert's version
    assert answer.adapter_id == active.id
    # the person who made them still has theirs, untouched
    assert [e.id for e in (await told(nc, ListExperts(), made.who.tenant)).experts] == [
        made.expert_id
    ]


async def test_a_poison_export_is_decided_failed_with_a_sentence(stack, nc):
    who = await person(nc)
    job_id = uuid.uuid4().hex[:16]
    accounts = stack.hosts["accounts"]
    # its staging folder cannot be made: a file stands where the folder goes, every attempt
    blocker = work_root(accounts) / f"export-{job_id}"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_bytes(b"in the way")
    # the same attempts, tried again after 0.5 s doubling (SIMTUNE_RETRY_BACKOFF_S), not 2 s:
    # they end within 7.5 s, not 30 s
    [exports] = [r for r in accounts.reactors if r.name == "accounts.export"]
    backoff_s, exports.backoff_s = exports.backoff_s, 0.5
    try:
        await accounts.store.append(
            CONTEXT, who.tenant, EXPORT_AGGREGATE, job_id,
            ExportRequested(job_id=job_id, user_id=who.user_id), expected_seq=0,
        )  # fmt: skip
        async with signed(stack, who) as client:
            job = await job_done(client, "export", {"job_id": job_id}, timeout=180)
    finally:
        exports.backoff_s = backoff_s
        blocker.unlink(missing_ok=True)
    assert job["status"] == "failed"
    assert (
        job["error"].startswith("The export could not be made")
        and "start the export again" in job["error"]
    )
    assert job["download_url"] is None


@pytest.mark.timeout(420)
async def test_an_export_cut_short_by_a_restart_is_finished_by_the_next_process(
    stack, nc, made, servers
):
    accounts = stack.hosts["accounts"]
    async with signed(stack, made.who) as client:
        job = (await client.post("/api/me/export")).json()

        async def underway():
            seen = (await client.get(f"/api/me/export/{job['job_id']}")).json()
            return seen["done"] >= 1 or seen["status"] != "running"

        await until(underway, timeout=60, what="the export to start")
        await accounts.stop()  # mid-export: the work goes back to the queue
        stack.hosts["accounts"] = await start_service(servers.settings(), "accounts")
        ended = await job_done(client, "export", job)
        assert ended["status"] == "ready", ended
        archive = (await client.get(ended["download_url"])).content
    manifest = check_archive(io.BytesIO(archive))
    assert manifest.counts["documents"] == 1 and manifest.counts["adapters"] == 1
    assert not (work_root(stack.hosts["accounts"]) / f"export-{job['job_id']}").exists()


async def test_a_replay_of_the_jobs_view_equals_the_live_one(stack, made):
    accounts = stack.hosts["accounts"]
    query = "SELECT * FROM accounts.data_jobs ORDER BY kind, id"
    await accounts.caught_up_with_log()
    async with accounts.engine.connect() as conn:
        live = [tuple(r) for r in (await conn.execute(text(query))).all()]
    await accounts.rebuild()
    async with accounts.engine.connect() as conn:
        replayed = [tuple(r) for r in (await conn.execute(text(query))).all()]
    assert live and replayed == live


async def test_old_archives_go_and_their_download_says_so(stack, nc):
    who = await person(nc)
    expert_id = (await told(nc, CreateExpert(profile=Profile(name="Brief")), who.tenant)).id
    assert expert_id
    async with signed(stack, who) as client:
        first = await job_done(client, "export", (await client.post("/api/me/export")).json())
        second = await job_done(client, "export", (await client.post("/api/me/export")).json())
        assert second["status"] == "ready"
        assert (await client.get(f"/api/me/export/{first['job_id']}")).json()["status"] == "expired"
        gone = await client.get(f"/api/me/export/{first['job_id']}/download")
        assert gone.status_code == 404 and "no longer kept" in gone.json()["detail"]
        await stack.hosts["accounts"].data_jobs_sweeper.sweep(grace_s=0, keep_s=0)
        assert (await client.get(f"/api/me/export/{second['job_id']}")).json()[
            "status"
        ] == "expired"


async def test_the_account_page_exports_with_live_progress_and_a_download_link(stack, nc):
    who = await person(nc)
    await told(nc, CreateExpert(profile=Profile(name="Console")), who.tenant)
    cookies = await session_cookie(nc, who.user_id)
    async with httpx.AsyncClient(base_url=stack.url, timeout=60.0, cookies=cookies) as browser:
        page = await browser.get("/account", headers=HTML)
        assert page.status_code == 200 and "Your data" in page.text
        assert 'hx-post="/ui/account/data/export"' in page.text and 'name="file"' in page.text
        started = await ui_post(browser, "/ui/account/data/export", htmx=True)
        assert started.status_code == 200, started.text
        job_id = re.search(r"/ui/account/data/export/([0-9a-f]+)", started.text)
        if job_id is None:  # already finished: the link is there at once
            assert "/download" in started.text
            return

        async def link():
            panel = await browser.get(f"/ui/account/data/export/{job_id.group(1)}", headers=HTMX)
            assert panel.status_code == 200
            return "/download" in panel.text and "every 1s" not in panel.text and panel.text

        shown = await until(link, timeout=120, what="the download link")
        href = re.search(r'href="(/api/me/export/[0-9a-f]+/download)"', shown).group(1)
        downloaded = await browser.get(href)
        assert downloaded.status_code == 200
        assert check_archive(io.BytesIO(downloaded.content)).counts["experts"] == 1


async def test_the_cli_exports_verifies_and_imports_with_a_report(stack, nc, tmp_path):
    who = await person(nc)
    expert_id = (await told(nc, CreateExpert(profile=Profile(name="Via CLI")), who.tenant)).id
    await upload_text(nc, who.tenant, expert_id, "heron.md", TEXT)
    target = tmp_path / "me.zip"
    exported = await Simtune(stack.url, who.key)("account", "export", "-o", str(target))
    assert exported.exit_code == 0, exported.stderr
    assert "verified" in exported.stdout and "1 experts" in exported.stdout
    assert check_archive(target).counts["documents"] == 1
    newcomer = await person(nc)
    imported = await Simtune(stack.url, newcomer.key)("account", "import", str(target))
    assert imported.exit_code == 0, imported.stderr
    assert "Restored: 1 expert, 1 document" in imported.stdout
    (restored,) = (await told(nc, ListExperts(), newcomer.tenant)).experts
    assert restored.name == "Via CLI"
    bad = tmp_path / "bad.zip"
    bad.write_bytes(target.read_bytes()[:-40])
    refused = await Simtune(stack.url, newcomer.key)("account", "import", str(bad))
    assert refused.exit_code == 1 and refused.stderr.startswith("error: ")
    assert len((await told(nc, ListExperts(), newcomer.tenant)).experts) == 1
