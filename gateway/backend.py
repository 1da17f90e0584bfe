"""The gateway's one door to the services: typed commands and queries over NATS.

Both the JSON API and the pages go through `Backend`, so they show the same thing. Every
query after a command passes the command's stream sequence as `after_seq`
(read-your-writes), so a reply always includes the change just made.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from nats.aio.client import Client as NATS

from contracts.answers import (
    BackendTestResult,
    BackendView,
    ConfigureBackend,
    GetAnswer,
    GetBackend,
    GiveFeedback,
    ListTraces,
    RescoreAnswers,
    Rescored,
    TestBackend,
    TracePage,
    TraceView,
)
from contracts.base import (
    Accepted,
    DomainError,
    ErrorCode,
    GetHealth,
    GetRebuildJob,
    RebuildJob,
    RebuildProjections,
    ServiceHealth,
)
from contracts.benchmark import (
    AddQuestions,
    BenchmarkResults,
    BenchmarkView,
    BenchSettings,
    BenchSummary,
    CancelBenchmark,
    ConfigureBench,
    Diagnose,
    DiagnosisView,
    GenerateExpertSet,
    GetBenchmark,
    GetDiagnosis,
    GetResults,
    GetSummary,
    ListBenchmarks,
    ListQuestions,
    Question,
    RemoveQuestion,
    RescoreBenchmark,
    Size,
    StartBenchmark,
    Suite,
)
from contracts.dataset import (
    BuildDataset,
    CancelBuild,
    DatasetView,
    ExamplePage,
    ExportDataset,
    ExportReady,
    GetDataset,
    ListDatasets,
    ListExamples,
    ListRejections,
    RejectionList,
)
from contracts.expert import (
    CreateExpert,
    DeleteExpert,
    ExpertView,
    GetExpert,
    ListExperts,
    Profile,
    ProfilePatch,
    UpdateExpert,
)
from contracts.ingest import (
    PAGE_SIZE,
    DeleteDocument,
    DocumentView,
    GetDocument,
    ListDocuments,
    RegisterUpload,
    UploadRegistered,
)
from contracts.knowledge import (
    MAX_QUERY,
    GetIndexStatus,
    Search,
    SearchResults,
)
from contracts.registry import (
    ActivateAdapter,
    ActiveAdapter,
    AdapterExport,
    AdapterImported,
    AdapterList,
    AdapterView,
    AuditTrail,
    DeleteAdapter,
    ExportAdapter,
    GetActiveAdapter,
    GetAdapter,
    GetAudit,
    ImportAdapter,
    ListAdapters,
    RollbackAdapter,
    TagAdapter,
    VerifyAdapter,
)
from contracts.rules import TOKEN_PATTERN, explain, violated_pattern
from gateway.hub import EventHub
from gateway.schemas import DocumentOut
from gateway.status import merge_documents, needs_index_status
from runtime import rpc
from runtime.codec import decode, encode
from runtime.objects import Objects
from runtime.settings import Settings

T = TypeVar("T")
TENANT = "local"
SERVICES = ("expert", "ingest", "knowledge", "dataset", "trainer", "registry", "benchmark")
HEALTH_TIMEOUT_S = 1.0
RESCORE_TIMEOUT_S = 600.0
ARCHIVE_TIMEOUT_S = 120.0  # an adapter archive is unpacked and hashed, or packed, meanwhile


def check_contract(payload: Any) -> None:
    try:
        decode(encode(payload), type(payload))
    except msgspec.ValidationError as exc:
        message = str(exc)
        if violated_pattern(message) == TOKEN_PATTERN:
            raise DomainError(ErrorCode.NOT_FOUND, "there is nothing with that id") from exc
        raise DomainError(ErrorCode.INVALID, explain(message)) from exc


def clean_query(q: str) -> str:
    """A search query with its whitespace collapsed; DomainError (400) if empty or too long."""
    q = " ".join(q.split())
    if not q:
        raise DomainError(ErrorCode.INVALID, "q must not be empty: say what to look for")
    if len(q) > MAX_QUERY:
        raise DomainError(ErrorCode.INVALID, f"q must be at most {MAX_QUERY} characters")
    return q


class Backend:
    def __init__(self, nc: NATS, settings: Settings, hub: EventHub) -> None:
        self.nc, self.settings, self.hub = nc, settings, hub
        self.js = nc.jetstream()
        self.objects = Objects(self.js)
        self.tenant = TENANT

    async def ask(self, message: Any, timeout: float = 10.0, context: str = "") -> Any:
        """One command or query to the service that serves it (the contract names it, and the
        reply); a service's typed error comes back as a DomainError.

        The message is checked against its contract first, so a request the service would
        refuse never leaves the gateway: an id that is not a token (`>`, `*`, `a.b`, empty)
        names nothing, so it is a 404, and any other broken rule a 400 naming it.
        """
        check_contract(message)
        return await rpc.ask(self.nc, message, timeout=timeout, context=context)

    send = ask  # a command's name for the same round trip

    # ---- experts ---------------------------------------------------------------------------

    async def create_expert(self, profile: Profile) -> ExpertView:
        accepted = await self.ask(CreateExpert(profile=profile))
        return await self.get_expert(accepted.id, after_seq=accepted.seq)

    async def update_expert(
        self, expert_id: str, changes: ProfilePatch, expected_version: int | None
    ) -> ExpertView:
        cmd = UpdateExpert(expert_id=expert_id, changes=changes, expected_version=expected_version)
        accepted = await self.ask(cmd)
        return await self.get_expert(expert_id, after_seq=accepted.seq)

    async def delete_expert(self, expert_id: str) -> None:
        accepted = await self.ask(DeleteExpert(expert_id=expert_id))
        await self.list_experts(after_seq=accepted.seq)

    async def get_expert(self, expert_id: str, after_seq: int = 0) -> ExpertView:
        query = GetExpert(expert_id=expert_id, after_seq=after_seq)
        return await self.ask(query)

    async def list_experts(self, after_seq: int = 0) -> list[ExpertView]:
        reply = await self.ask(ListExperts(after_seq=after_seq))
        return reply.experts

    # ---- answers, feedback, traces, model backend ------------------------------------------

    async def give_feedback(self, cmd: GiveFeedback) -> TraceView:
        accepted = await self.ask(cmd)
        return await self.get_answer(cmd.answer_id, after_seq=accepted.seq)

    async def get_answer(self, answer_id: str, after_seq: int = 0) -> TraceView:
        query = GetAnswer(answer_id=answer_id, after_seq=after_seq)
        return await self.ask(query)

    async def list_traces(self, query: ListTraces) -> TracePage:
        return await self.ask(query)

    async def rescore(self, expert_id: str) -> Rescored:
        cmd = RescoreAnswers(expert_id=expert_id)
        return await self.ask(cmd, timeout=RESCORE_TIMEOUT_S)

    async def get_backend(self, expert_id: str, after_seq: int = 0) -> BackendView:
        query = GetBackend(expert_id=expert_id, after_seq=after_seq)
        return await self.ask(query)

    async def configure_backend(self, cmd: ConfigureBackend) -> BackendView:
        accepted = await self.ask(cmd)
        return await self.get_backend(cmd.expert_id, after_seq=accepted.seq)

    async def test_backend(self, expert_id: str) -> BackendTestResult:
        query = TestBackend(expert_id=expert_id)
        return await self.ask(query, timeout=120)

    # ---- datasets --------------------------------------------------------------------------

    async def build_dataset(self, cmd: BuildDataset) -> Accepted:
        return await self.ask(cmd)

    async def get_dataset(self, dataset_id: str, after_seq: int = 0) -> DatasetView:
        query = GetDataset(dataset_id=dataset_id, after_seq=after_seq)
        return await self.ask(query)

    async def list_datasets(self, expert_id: str, after_seq: int = 0) -> list[DatasetView]:
        await self.get_expert(expert_id)  # 404 for an expert that does not exist
        query = ListDatasets(expert_id=expert_id, after_seq=after_seq)
        return (await self.ask(query)).datasets

    async def dataset_examples(self, query: ListExamples) -> ExamplePage:
        return await self.ask(query)

    async def dataset_rejections(self, dataset_id: str) -> RejectionList:
        query = ListRejections(dataset_id=dataset_id)
        return await self.ask(query)

    async def revise_dataset(self, cmd) -> DatasetView:
        """An edit, deletion or addition: the new version it made."""
        accepted = await self.send(cmd)
        return await self.get_dataset(accepted.id, after_seq=accepted.seq)

    async def cancel_dataset(self, dataset_id: str) -> DatasetView:
        accepted = await self.ask(CancelBuild(dataset_id=dataset_id))
        return await self.get_dataset(dataset_id, after_seq=accepted.seq)

    async def export_dataset(self, query: ExportDataset) -> ExportReady:
        return await self.ask(query, timeout=60)

    # ---- adapters --------------------------------------------------------------------------

    async def list_adapters(self, expert_id: str, after_seq: int = 0) -> AdapterList:
        query = ListAdapters(expert_id=expert_id, after_seq=after_seq)
        return await self.ask(query)

    async def get_adapter(self, adapter_id: str, after_seq: int = 0) -> AdapterView:
        query = GetAdapter(adapter_id=adapter_id, after_seq=after_seq)
        return await self.ask(query)

    async def active_adapter(self, expert_id: str, after_seq: int = 0) -> ActiveAdapter:
        query = GetActiveAdapter(expert_id=expert_id, after_seq=after_seq)
        return await self.ask(query)

    async def activate_adapter(self, cmd: ActivateAdapter) -> ActiveAdapter:
        accepted = await self.ask(cmd)
        return await self.active_adapter(cmd.expert_id, after_seq=accepted.seq)

    async def rollback_adapter(self, cmd: RollbackAdapter) -> ActiveAdapter:
        accepted = await self.ask(cmd)
        return await self.active_adapter(cmd.expert_id, after_seq=accepted.seq)

    async def tag_adapter(self, cmd: TagAdapter) -> AdapterView:
        accepted = await self.ask(cmd)
        return await self.get_adapter(cmd.adapter_id, after_seq=accepted.seq)

    async def delete_adapter(self, cmd: DeleteAdapter) -> AdapterView:
        """The version as it was; once this returns, the expert's list no longer has it."""
        view = await self.get_adapter(cmd.adapter_id)
        accepted = await self.ask(cmd)
        await self.list_adapters(view.expert_id, after_seq=accepted.seq)
        return view

    async def verify_adapter(self, cmd: VerifyAdapter) -> AdapterView:
        return await self.ask(cmd, timeout=ARCHIVE_TIMEOUT_S)

    async def import_adapter(self, cmd: ImportAdapter) -> AdapterImported:
        return await self.ask( cmd, timeout=ARCHIVE_TIMEOUT_S
        )

    async def export_adapter(self, adapter_id: str) -> AdapterExport:
        query = ExportAdapter(adapter_id=adapter_id)
        return await self.ask( query, timeout=ARCHIVE_TIMEOUT_S
        )

    async def adapter_audit(self, query: GetAudit) -> AuditTrail:
        return await self.ask(query)

    # ---- benchmarks ------------------------------------------------------------------------

    async def start_benchmark(self, cmd: StartBenchmark) -> BenchmarkView:
        accepted = await self.ask(cmd)
        return await self.get_benchmark(accepted.run_id, after_seq=accepted.seq)

    async def get_benchmark(self, run_id: str, after_seq: int = 0) -> BenchmarkView:
        query = GetBenchmark(run_id=run_id, after_seq=after_seq)
        return await self.ask(query)

    async def list_benchmarks(self, query: ListBenchmarks) -> list[BenchmarkView]:
        """Newest first; a 404 for an expert that does not exist."""
        await self.get_expert(query.expert_id)
        return (await self.ask(query)).runs

    async def cancel_benchmark(self, run_id: str) -> BenchmarkView:
        accepted = await self.ask(CancelBenchmark(run_id=run_id))
        return await self.get_benchmark(run_id, after_seq=accepted.seq)

    async def rescore_benchmark(self, run_id: str) -> BenchmarkView:
        cmd = RescoreBenchmark(run_id=run_id)
        accepted = await self.ask( cmd, timeout=RESCORE_TIMEOUT_S
        )
        return await self.get_benchmark(run_id, after_seq=accepted.seq)

    async def benchmark_results(self, run_id: str) -> BenchmarkResults:
        return await self.ask(GetResults(run_id=run_id))

    async def benchmark_summary(self, query: GetSummary) -> BenchSummary:
        await self.get_expert(query.expert_id)
        return await self.ask(query)

    async def configure_benchmarks(self, expert_id: str, settings: BenchSettings) -> BenchSummary:
        """The settings saved; the summary (which holds them) as it is afterwards."""
        cmd = ConfigureBench(expert_id=expert_id, settings=settings)
        accepted = await self.ask(cmd)
        query = GetSummary(expert_id=expert_id, after_seq=accepted.seq)
        return await self.ask(query)

    async def benchmark_questions(
        self, expert_id: str, suite: Suite | None = None
    ) -> list[Question]:
        await self.get_expert(expert_id)
        query = ListQuestions(expert_id=expert_id, suite=suite)
        return (await self.ask(query)).questions

    async def add_benchmark_questions(self, expert_id: str, questions: list[Question]) -> None:
        cmd = AddQuestions(expert_id=expert_id, questions=questions)
        await self.ask(cmd)

    async def remove_benchmark_question(self, expert_id: str, question_id: str) -> None:
        cmd = RemoveQuestion(expert_id=expert_id, question_id=question_id)
        await self.ask(cmd)

    async def generate_benchmark_set(self, expert_id: str) -> None:
        """Write the expert's own question set from its newest ready dataset."""
        cmd = GenerateExpertSet(expert_id=expert_id)
        await self.ask(cmd, timeout=60)

    async def diagnose(self, expert_id: str, size: Size = "quick") -> DiagnosisView:
        return await self.ask(Diagnose(expert_id=expert_id, size=size))  # fmt: skip

    async def diagnosis(self, expert_id: str) -> DiagnosisView:
        await self.get_expert(expert_id)
        return await self.ask(GetDiagnosis(expert_id=expert_id))  # fmt: skip

    # ---- documents -------------------------------------------------------------------------

    async def list_documents(
        self, expert_id: str, *, after_ingest: int = 0, after_knowledge: int = 0
    ) -> list[DocumentOut]:
        """The first page of the expert's documents (what the console's table shows)."""
        docs, _ = await self.documents_page(
            expert_id, after_ingest=after_ingest, after_knowledge=after_knowledge
        )
        return docs

    async def documents_page(
        self,
        expert_id: str,
        *,
        limit: int = PAGE_SIZE,
        after: str | None = None,
        after_ingest: int = 0,
        after_knowledge: int = 0,
    ) -> tuple[list[DocumentOut], str | None]:
        """One page of the expert's documents, oldest first, and the next page's cursor."""
        query = ListDocuments(expert_id=expert_id, limit=limit, after=after, after_seq=after_ingest)
        reply = await self.ask(query)
        return await self.merged(reply.documents, after_knowledge=after_knowledge), reply.next

    async def get_document(self, document_id: str) -> DocumentOut:
        doc = await self.ask(GetDocument(document_id=document_id))
        return (await self.merged([doc]))[0]

    async def delete_document(self, document_id: str) -> DocumentOut:
        doc = await self.get_document(document_id)
        cmd = DeleteDocument(document_id=document_id)
        accepted = await self.ask(cmd)
        await self.ask(
            ListDocuments(expert_id=doc.expert_id, after_seq=accepted.seq),
        )
        return doc

    async def register_upload(self, cmd: RegisterUpload) -> UploadRegistered:
        return await self.ask(cmd, timeout=30.0)

    async def merged(
        self, docs: list[DocumentView], *, after_knowledge: int = 0
    ) -> list[DocumentOut]:
        """Documents with the status a person sees (the knowledge index decides past chunking)."""
        ids = needs_index_status(docs)
        statuses = []
        if ids:
            query = GetIndexStatus(document_ids=ids, after_seq=after_knowledge)
            statuses = (await self.ask(query)).statuses
        return merge_documents(docs, statuses)

    # ---- knowledge and admin ---------------------------------------------------------------

    async def search(self, expert_id: str, q: str, k: int) -> SearchResults:
        """Passages of the expert's documents, best first (`q` is cleaned first: 400 if empty)."""
        q = clean_query(q)
        await self.get_expert(expert_id)
        query = Search(expert_id=expert_id, q=q, k=k)
        return await self.ask(query, timeout=30.0)

    async def start_rebuild(self, service: str) -> RebuildJob:
        """Start rebuilding a service's projections (a job; the views keep serving)."""
        return await self.send(RebuildProjections(), context=known_service(service))

    async def rebuild_job(self, service: str, job_id: str) -> RebuildJob:
        query = GetRebuildJob(job_id=job_id)
        return await self.ask(query, context=known_service(service))

    async def service_health(self, service: str) -> ServiceHealth:
        """A service's projections and reactors, as it sees them."""
        return await self.ask(GetHealth(), timeout=HEALTH_TIMEOUT_S, context=service)


def known_service(service: str) -> str:
    if service not in SERVICES:
        raise DomainError(
            ErrorCode.NOT_FOUND,
            f"there is no service called {service!r}; choose one of {', '.join(SERVICES)}",
        )
    return service
