"""The import job: long work off the `accounts.import` work queue, started by `ImportRequested`.

Each expert of the archive is restored through the other services' own commands, as a person
would: created with its profile and style guide (and its model server, without a key: keys
are never exported), its original documents uploaded again (so they are parsed and indexed
here: search works), its adapters imported through the registry's import and the one that
was active activated, its custom benchmark questions added, its dataset versions imported
as manual examples. Traces, fine-tuning runs and benchmark history stay in the archive: they
are records of what happened on the other install, not things to do again here.

Every id this job makes is derived from the request's event id and the archive's id, so a job
redelivered after a restart makes the same expert again (refused as existing, and carried on
with), uploads the same documents (deduplicated) and the same adapters (recognised as
duplicates). The upload is deleted when the job ends. `ImportFinished` lists what was
restored and what was skipped, each with Simtune's sentence.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
import zipfile
from pathlib import Path

import msgspec

from contracts.accounts import (
    CONTEXT,
    IMPORT_AGGREGATE,
    UPLOADS_BUCKET,
    ArchiveRefused,
    ImportFailed,
    ImportFinished,
    ImportItem,
    ImportProgressed,
    ImportRequested,
    check_archive,
    safe_member,
)
from contracts.answers import BackendView, ConfigureBackend
from contracts.base import DomainError, ErrorCode
from contracts.benchmark import AddQuestions, Question
from contracts.dataset import (
    MAX_MANUAL,
    MAX_MANUAL_JSONL,
    BuildDataset,
    BuildSpec,
    DatasetView,
    ListDatasets,
    Sources,
)
from contracts.expert import CreateExpert, Profile
from contracts.ingest import DOCUMENTS_BUCKET, DocumentView, RegisterUpload
from contracts.registry import IMPORTS, ActivateAdapter, AdapterList, ImportAdapter
from runtime.eventstore import RecordedEvent, derived_id
from runtime.logs import get_logger
from runtime.reactor import Progress
from runtime.rpc import ask
from runtime.service import Hosted, ServiceHost
from services.accounts.exports.aggregates import IMPORT, end_job
from services.accounts.exports.exporting import fresh_folder, job_folder, stopped_each_time

log = get_logger(__name__)
STEPS = 5  # per expert: profile, documents, adapters, questions, datasets
COMMAND_TIMEOUT_S = 120.0  # an adapter import reads and checks the whole archive


class DocumentEntry(DocumentView, frozen=True, kw_only=True):
    file: str


class ImportJob(Hosted):
    async def on_import(self, rec: RecordedEvent, progress: Progress) -> None:
        if not isinstance(rec.event, ImportRequested):
            return
        ev = rec.event
        folder = await fresh_folder(self.host, IMPORT, rec, "import")
        if folder is None:
            return  # finished or failed before a redelivery
        restorer = Restorer(self.host, rec, progress)
        try:
            outcome = await restorer.run(folder / "archive.zip")
        except ArchiveRefused as exc:
            outcome = ImportFailed(
                job_id=ev.job_id, reason=failure(str(exc)), restored=restorer.restored
            )
        except DomainError as exc:
            outcome = ImportFailed(
                job_id=ev.job_id, reason=failure(exc.detail), restored=restorer.restored
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        await self.end(rec, outcome)
        await self.host.objects.delete(UPLOADS_BUCKET, ev.archive.name)

    async def end(self, rec: RecordedEvent, outcome) -> None:
        await end_job(self.host.store, IMPORT, rec, outcome)

    async def gave_up(self, rec: RecordedEvent, error: BaseException) -> None:
        if not isinstance(rec.event, ImportRequested):
            return
        reason = failure(
            f"{stopped_each_time(self.host, error)}; what was restored before stays, and"
            " importing the archive again makes its experts anew"
        )
        shutil.rmtree(job_folder(self.host, "import", rec.event.job_id), ignore_errors=True)
        await self.end(rec, ImportFailed(job_id=rec.event.job_id, reason=reason))
        await self.host.objects.delete(UPLOADS_BUCKET, rec.event.archive.name)


class Restorer:
    def __init__(self, host: ServiceHost, rec: RecordedEvent, progress: Progress) -> None:
        self.host, self.rec, self.progress = host, rec, progress
        self.tenant, self.ev = rec.tenant, rec.event
        self.restored: list[ImportItem] = []
        self.skipped: list[ImportItem] = []
        self.kept: dict[str, int] = {}
        self.done = self.total = 0

    async def ask(self, message, timeout: float = COMMAND_TIMEOUT_S):
        return await ask(
            self.host.nc, msgspec.structs.replace(message, tenant=self.tenant), timeout=timeout
        )

    async def tick(self, stage: str) -> None:
        self.done += 1
        await self.progress()
        step = ImportProgressed(
            job_id=self.ev.job_id, done=self.done, total=self.total, stage=stage[:120]
        )
        await self.host.store.append(
            CONTEXT, self.tenant, IMPORT_AGGREGATE, self.ev.job_id, step, expected_seq=None
        )

    async def run(self, path: Path) -> ImportFinished:
        with path.open("wb") as sink:
            await self.host.objects.read_into(
                UPLOADS_BUCKET, self.ev.archive.name, sink, tenant=self.tenant
            )
        await asyncio.to_thread(check_archive, path)  # the upload is checked again, whole
        with zipfile.ZipFile(path) as archive:
            experts = sorted(
                {n.split("/")[1] for n in archive.namelist() if n.startswith("experts/")
                 and n.endswith("/profile.json") and n.count("/") == 2}
            )  # fmt: skip
            self.total = len(experts) * STEPS + 1
            await self.tick("reading the archive")
            for n, source_id in enumerate(experts, start=1):
                await self.expert(archive, source_id, f"expert {n} of {len(experts)}")
        return ImportFinished(
            job_id=self.ev.job_id, restored=self.restored, skipped=self.skipped, kept=self.kept
        )

    # ---- one expert --------------------------------------------------------------------------

    async def expert(self, archive: zipfile.ZipFile, source_id: str, label: str) -> None:
        base = f"experts/{source_id}"
        expert_id = uuid.UUID(derived_id(self.rec.event_id, "expert", source_id)).hex[:12]
        data = msgspec.json.decode(archive.read(f"{base}/profile.json"))
        profile = msgspec.convert(
            {k: v for k, v in data.items() if k in Profile.__struct_fields__}, Profile
        )
        try:
            await self.ask(CreateExpert(expert_id=expert_id, profile=profile))
        except DomainError as exc:
            if exc.code != ErrorCode.CONFLICT:  # CONFLICT: made by this job before a restart
                raise
        self.restored.append(ImportItem(kind="expert", source_id=source_id, id=expert_id))
        await self.backend(archive, base, source_id, expert_id)
        await self.tick(f"{label}: the profile and style guide")
        await self.documents(archive, base, expert_id)
        await self.tick(f"{label}: the documents")
        await self.adapters(archive, base, expert_id)
        await self.tick(f"{label}: the adapters")
        await self.questions(archive, base, expert_id)
        await self.tick(f"{label}: the benchmark questions")
        await self.datasets(archive, base, expert_id)
        await self.tick(f"{label}: the datasets")
        self.keep(archive, base)

    async def backend(self, archive, base: str, source_id: str, expert_id: str) -> None:
        name = f"{base}/backend.json"
        if name not in archive.NameToInfo:
            return
        view = msgspec.json.decode(archive.read(name), type=BackendView)
        if view.kind == "local":
            return
        try:
            await self.ask(ConfigureBackend(
                expert_id=expert_id, kind=view.kind, base_url=view.base_url, model=view.model,
                timeout_s=view.timeout_s,
            ))  # fmt: skip
        except DomainError as exc:
            self.skip("backend", source_id, f"its model server was not set: {exc.detail}")
            return
        self.restored.append(ImportItem(kind="backend", source_id=source_id, id=expert_id))
        if view.api_key_set:
            self.skip("backend", source_id, "its model server's API key is never exported;"
                      " set it again on the expert's page")  # fmt: skip

    async def documents(self, archive, base: str, expert_id: str) -> None:
        name = f"{base}/documents.json"
        if name not in archive.NameToInfo:
            return
        for doc in msgspec.json.decode(archive.read(name), type=list[DocumentEntry]):
            if not safe_member(doc.file) or doc.file not in archive.NameToInfo:
                self.skip("document", doc.id, "its file is not in the archive")
                continue
            data = archive.read(doc.file)
            try:
                ref = await self.host.objects.put(
                    DOCUMENTS_BUCKET, f"{self.tenant}/{expert_id}/{doc.sha256}", data,
                    tenant=self.tenant,
                )  # fmt: skip
                media = doc.media_type or "application/octet-stream"
                made = await self.ask(RegisterUpload(
                    expert_id=expert_id, filename=doc.filename, media_type=media, object=ref
                ))  # fmt: skip
            except DomainError as exc:
                self.skip("document", doc.id, f"it was not accepted: {exc.detail}")
                continue
            self.restored.append(ImportItem(kind="document", source_id=doc.id, id=made.document.id))

    async def adapters(self, archive, base: str, expert_id: str) -> None:
        name = f"{base}/adapters.json"
        if name not in archive.NameToInfo:
            return
        listed = msgspec.json.decode(archive.read(name), type=AdapterList)
        made: dict[str, str] = {}
        for adapter in listed.adapters:
            member = f"{base}/adapters/{adapter.id}.tar.gz"
            if member not in archive.NameToInfo:
                why = (
                    "a hosted model has no files to move"
                    if adapter.provider_model
                    else "it was not valid when exported, so it has no files in the archive"
                )
                self.skip("adapter", adapter.id, why)  # fmt: skip
                continue
            data = archive.read(member)
            upload = f"{self.tenant}/{derived_id(self.rec.event_id, 'adapter', adapter.id)}"
            try:
                ref = await self.host.objects.put(IMPORTS, upload, data, tenant=self.tenant)
                imported = await self.ask(ImportAdapter(
                    expert_id=expert_id, archive=ref, filename=f"{adapter.id}.tar.gz", by="import"
                ))  # fmt: skip
            except DomainError as exc:
                self.skip("adapter", adapter.id, f"the registry refused it: {exc.detail}")
                continue
            made[adapter.id] = imported.adapter_id
            self.restored.append(
                ImportItem(kind="adapter", source_id=adapter.id, id=imported.adapter_id)
            )
        active = listed.active_adapter_id
        if active is None:
            return
        if active not in made:
            self.skip("active_adapter", active, "the version that was active was not imported")
            return
        try:
            await self.ask(
                ActivateAdapter(expert_id=expert_id, adapter_id=made[active], by="import")
            )
        except DomainError as exc:
            self.skip("active_adapter", active, f"it could not be activated: {exc.detail}")
            return
        self.restored.append(ImportItem(kind="active_adapter", source_id=active, id=made[active]))

    async def questions(self, archive, base: str, expert_id: str) -> None:
        name = f"{base}/benchmarks/questions.jsonl"
        if name not in archive.NameToInfo:
            return
        decoder = msgspec.json.Decoder(Question)
        questions = [
            decoder.decode(line) for line in archive.read(name).splitlines() if line.strip()
        ]
        for start in range(0, len(questions), 500):
            part = questions[start : start + 500]
            try:
                await self.ask(AddQuestions(expert_id=expert_id, questions=part))
            except DomainError as exc:
                for q in part:
                    self.skip("question", q.id, f"it was not accepted: {exc.detail}")
                continue
            self.restored += [ImportItem(kind="question", source_id=q.id, id=q.id) for q in part]

    async def datasets(self, archive, base: str, expert_id: str) -> None:
        name = f"{base}/datasets.json"
        if name not in archive.NameToInfo:
            return
        versions = msgspec.json.decode(archive.read(name), type=list[DatasetView])
        ready = [v for v in versions if v.status == "ready"]
        if ready and (await self.ask(ListDatasets(expert_id=expert_id))).datasets:
            return  # imported by this job before a restart
        for version in sorted(ready, key=lambda v: v.version):
            lines = []
            for split in ("train", "val"):
                member = f"{base}/datasets/{version.id}.{split}.jsonl"
                if member in archive.NameToInfo:
                    lines += [
                        ln for ln in archive.read(member).decode("utf-8").splitlines() if ln.strip()
                    ]
            text = "\n".join(lines)
            if not lines:
                self.skip("dataset", version.id, "it has no examples in the archive")
                continue
            if len(lines) > MAX_MANUAL or len(text) > MAX_MANUAL_JSONL:
                self.skip("dataset", version.id, (
                    f"it has {len(lines)} examples ({len(text)} characters); an import of"
                    f" examples takes at most {MAX_MANUAL} and {MAX_MANUAL_JSONL} characters:"
                    " its chat JSONL stays in the archive"))  # fmt: skip
                continue
            try:
                built = await self.ask(BuildDataset(
                    expert_id=expert_id, spec=BuildSpec(sources=Sources()), manual_jsonl=text
                ))  # fmt: skip
            except DomainError as exc:
                self.skip("dataset", version.id, f"it was not accepted: {exc.detail}")
                continue
            self.restored.append(ImportItem(kind="dataset", source_id=version.id, id=built.id))

    def keep(self, archive, base: str) -> None:
        """What stays in the archive only: counted for the report."""
        traces = f"{base}/traces.jsonl"
        if traces in archive.NameToInfo:
            self.kept["traces"] = self.kept.get("traces", 0) + len(
                archive.read(traces).splitlines()
            )
        runs = [
            n
            for n in archive.namelist()
            if n.startswith(f"{base}/benchmarks/") and n.endswith(".csv")
        ]
        self.kept["benchmark_runs"] = self.kept.get("benchmark_runs", 0) + len(runs)
        finetune = f"{base}/finetune/runs.json"
        if finetune in archive.NameToInfo:
            count = len(msgspec.json.decode(archive.read(finetune)))
            self.kept["finetune_runs"] = self.kept.get("finetune_runs", 0) + count

    def skip(self, kind: str, source_id: str, reason: str) -> None:
        self.skipped.append(ImportItem(kind=kind, source_id=source_id[:200], reason=reason[:1000]))


def failure(detail: str) -> str:
    return f"The import stopped: {detail}"[:1000]
