"""Wiring of the ingest service: the documents projection, its three reactors and its
endpoints."""

from __future__ import annotations

from contracts import expert
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
    host.endpoints.serve_handlers(commands, queries)
