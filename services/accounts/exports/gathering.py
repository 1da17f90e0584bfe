"""What an export gathers for one tenant, asked of each service over NATS with the queries the
gateway asks (contracts only), written as files in a staging folder.

Per expert, under `experts/<expert_id>/`:

| file | from |
|---|---|
| `profile.json` (profile and style guide), `backend.json` (no key: only whether one was set) | expert |
| `documents.json`, `documents/<document_id>.<ext>` (the original files) | ingest, `documents` bucket |
| `traces.jsonl` (every answer with its sources, score, feedback and edit) | expert |
| `datasets.json`, `datasets/<dataset_id>.train.jsonl`, `….val.jsonl` (chat JSONL) | dataset |
| `adapters.json` (every version, which is active), `adapters/<adapter_id>.tar.gz` | registry |
| `benchmarks/runs.json`, `benchmarks/<run_id>.json` and `.csv`, `benchmarks/questions.jsonl` (custom) | benchmark |
| `finetune/runs.json` | trainer |
| `audit.json` (every registry action, succeeded or refused) | registry |
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import mimetypes
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec

from contracts.accounts import ManifestFile
from contracts.answers import GetBackend, ListTraces
from contracts.base import DomainError, ErrorCode, ObjectRef
from contracts.benchmark import GetResults, ListBenchmarks, ListQuestions
from contracts.dataset import ExportDataset, ListDatasets
from contracts.expert import ExpertView, ListExperts
from contracts.ingest import DOCUMENTS_BUCKET, ListDocuments
from contracts.registry import ExportAdapter, GetAudit, ListAdapters
from contracts.trainer import ListRuns
from runtime.objects import Objects
from runtime.rpc import ask

QUERY_TIMEOUT_S = 60.0  # an adapter is packed, a dataset rendered, on request
SECTIONS = 8  # the steps of one expert: what `Progress` counts
_json = msgspec.json.Encoder(order="deterministic")

Tick = Callable[[str], Awaitable[None]]


class Staging:
    """The archive's files as they are written: each one's path, size and sha256."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[ManifestFile] = []
        self.counts: Counter[str] = Counter()

    def write(self, path: str, data: bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.files.append(
            ManifestFile(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest())
        )

    def json(self, path: str, value: object) -> None:
        self.write(path, msgspec.json.format(_json.encode(value), indent=2))

    def jsonl(self, path: str, rows: list) -> None:
        self.write(path, b"".join(_json.encode(r) + b"\n" for r in rows))

    async def object(self, objects: Objects, ref: ObjectRef, path: str, tenant: str) -> None:
        """An object from the store, streamed to its file and checked against its sha256."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as sink:
            await objects.read_into(ref.bucket, ref.name, sink, tenant=tenant)
        sha, size = await asyncio.to_thread(_hash_file, target)
        if sha != ref.sha256:
            raise DomainError(
                ErrorCode.INTERNAL, f"a stored file ({path}) does not match its checksum"
            )
        self.files.append(ManifestFile(path=path, size=size, sha256=sha))


def _hash_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while block := f.read(1024 * 1024):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


class Gatherer:
    """Everything of one tenant, expert by expert; `tick` is called after each section."""

    def __init__(self, nc, objects: Objects, tenant: str, staging: Staging) -> None:
        self.nc, self.objects, self.tenant, self.out = nc, objects, tenant, staging

    async def ask(self, message):
        return await ask(
            self.nc, msgspec.structs.replace(message, tenant=self.tenant), timeout=QUERY_TIMEOUT_S
        )

    async def experts(self) -> list[ExpertView]:
        return (await self.ask(ListExperts())).experts

    async def expert(self, expert: ExpertView, tick: Tick) -> None:
        base, out = f"experts/{expert.id}", self.out
        out.counts["experts"] += 1
        out.json(f"{base}/profile.json", expert)
        out.json(f"{base}/backend.json", await self.ask(GetBackend(expert_id=expert.id)))
        await tick("the profile and style guide")
        await self.documents(expert.id, base)
        await tick("the documents")
        await self.traces(expert.id, base)
        await tick("the answers, feedback and edits")
        await self.datasets(expert.id, base)
        await tick("the datasets")
        await self.adapters(expert.id, base)
        await tick("the adapters")
        await self.benchmarks(expert.id, base)
        await tick("the benchmarks")
        out.json(
            f"{base}/finetune/runs.json",
            (await self.ask(ListRuns(expert_id=expert.id, limit=200))).runs,
        )
        await tick("the fine-tuning runs")
        out.json(
            f"{base}/audit.json",
            (await self.ask(GetAudit(expert_id=expert.id, limit=10_000))).entries,
        )
        await tick("the audit trail")

    async def documents(self, expert_id: str, base: str) -> None:
        listed, after = [], None
        while True:
            page = await self.ask(ListDocuments(expert_id=expert_id, after=after, limit=200))
            listed += page.documents
            if not page.next:
                break
            after = page.next
        kept = []
        for doc in listed:
            path = f"{base}/documents/{doc.id}{extension(doc.filename, doc.media_type)}"
            ref = ObjectRef(
                bucket=DOCUMENTS_BUCKET,
                name=f"{self.tenant}/{expert_id}/{doc.sha256}",
                sha256=doc.sha256,
                size=doc.size,
            )
            await self.out.object(self.objects, ref, path, self.tenant)
            kept.append({**msgspec.to_builtins(doc), "file": path})
            self.out.counts["documents"] += 1
        self.out.json(f"{base}/documents.json", kept)

    async def traces(self, expert_id: str, base: str) -> None:
        rows, after = [], None
        while True:
            page = await self.ask(ListTraces(expert_id=expert_id, limit=200, after=after))
            rows += page.traces
            if not page.next:
                break
            after = page.next
        self.out.jsonl(f"{base}/traces.jsonl", rows)
        self.out.counts["traces"] += len(rows)
        self.out.counts["feedback"] += sum(1 for t in rows if t.feedback is not None)

    async def datasets(self, expert_id: str, base: str) -> None:
        versions = (await self.ask(ListDatasets(expert_id=expert_id))).datasets
        self.out.json(f"{base}/datasets.json", versions)
        for version in versions:
            if version.status != "ready":
                continue
            for split in ("train", "val"):
                ready = await self.ask(
                    ExportDataset(dataset_id=version.id, format="chat", split=split)
                )
                path = f"{base}/datasets/{version.id}.{split}.jsonl"
                await self.out.object(self.objects, ready.object, path, self.tenant)
            self.out.counts["datasets"] += 1

    async def adapters(self, expert_id: str, base: str) -> None:
        listed = await self.ask(ListAdapters(expert_id=expert_id))
        self.out.json(f"{base}/adapters.json", listed)
        for adapter in listed.adapters:
            if adapter.provider_model or not adapter.valid:
                continue  # a hosted model has no files; an invalid version cannot be packed
            packed = await self.ask(ExportAdapter(adapter_id=adapter.id))
            path = f"{base}/adapters/{adapter.id}.tar.gz"
            await self.out.object(self.objects, packed.object, path, self.tenant)
            self.out.counts["adapters"] += 1

    async def benchmarks(self, expert_id: str, base: str) -> None:
        runs = (await self.ask(ListBenchmarks(expert_id=expert_id, limit=5000))).runs
        self.out.json(f"{base}/benchmarks/runs.json", runs)
        for run in runs:
            results = await self.ask(GetResults(run_id=run.id))
            self.out.json(f"{base}/benchmarks/{run.id}.json", results)
            self.out.write(f"{base}/benchmarks/{run.id}.csv", results_csv(results))
            self.out.counts["benchmark_runs"] += 1
        custom = (await self.ask(ListQuestions(expert_id=expert_id, suite="custom"))).questions
        self.out.jsonl(f"{base}/benchmarks/questions.jsonl", custom)
        self.out.counts["questions"] += len(custom)


def results_csv(results) -> bytes:
    questions = {q.id: q for q in results.questions}
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["question_id", "domain", "question", "reference", "answer", "score",
                     "scorer", "scorer_version", "response_ms"])  # fmt: skip
    for r in results.results:
        q = questions.get(r.question_id)
        writer.writerow([r.question_id, r.domain, q.question if q else "", q.reference if q else "",
                         r.answer, r.score, r.scorer, r.scorer_version, r.response_ms])  # fmt: skip
    return text.getvalue().encode("utf-8")


def extension(filename: str, media_type: str) -> str:
    """The original file's extension, if it is a plain one (the file name itself stays in
    `documents.json`, out of the archive's paths)."""
    suffix = Path(filename).suffix.lower()
    if suffix and len(suffix) <= 10 and suffix[1:].isalnum():
        return suffix
    return mimetypes.guess_extension(media_type or "") or ".bin"
