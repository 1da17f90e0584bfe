"""Wiring of the ingest service: the documents projection, its three reactors and its
endpoints."""

from __future__ import annotations

from contracts import expert
from contracts.ingest import AGGREGATE as DOCUMENT
from contracts.ingest import DERIVED_BUCKET, DOCUMENTS_BUCKET, DocumentDeleted
from runtime.erasure import AfterErased, TenantErasure
from runtime.service import ServiceHost
from services.ingest.commands import IngestCommands
from services.ingest.projections import DocumentsProjection
from services.ingest.queries import IngestQueries
from services.ingest.reactors.deletions import OnDocumentDeleted
from services.ingest.reactors.expert_deletions import OnExpertDeleted
from services.ingest.reactors.uploads import OnUpload

NAME = "ingest"


async def build(host: ServiceHost) -> None:
    queries = IngestQueries(host)
    commands = IngestCommands(host, queries)
    uploads = OnUpload(host)
    host.project(DocumentsProjection())
    host.react(
        "ingest.parse",
        host.stream,
        uploads.react,
        give_up=uploads.give_up,
        concurrency=host.settings.parse_workers,
    )
    host.react("ingest.cleanup", host.stream, OnDocumentDeleted(host).react)
    host.react("ingest.cascade", expert.STREAM, OnExpertDeleted(host).react)
    # a forgotten person's documents: rows, originals, chunk lists
    TenantErasure(host, buckets=(DOCUMENTS_BUCKET, DERIVED_BUCKET)).wire()
    # what an erasure dropped from the views: no copy left in pages or WAL
    AfterErased(host, DOCUMENT, (DocumentDeleted,), ("documents",)).wire()
    host.endpoints.serve_handlers(commands, queries)
