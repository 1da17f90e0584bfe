"""Wiring of the ingest service: endpoints, projection and reactions."""

from __future__ import annotations

from contracts.ingest import DeleteDocument, GetDocument, ListDocuments, RegisterUpload
from runtime.service import ServiceHost
from services.ingest.handlers import IngestHandlers
from services.ingest.policies import IngestPolicies
from services.ingest.projections import DocumentsProjection

NAME = "ingest"


async def build(host: ServiceHost) -> None:
    handlers, policies = IngestHandlers(host), IngestPolicies(host)
    host.project(DocumentsProjection())
    host.react(
        "ingest.parse",
        "INGEST",
        policies.parse,
        give_up=policies.parse_failed,
        concurrency=host.settings.parse_workers,
    )
    host.react("ingest.cleanup", "INGEST", policies.cleanup)
    host.react("ingest.cascade", "EXPERT", policies.cascade)
    host.endpoints.serve(RegisterUpload, handlers.register_upload)
    host.endpoints.serve(DeleteDocument, handlers.delete)
    host.endpoints.serve(GetDocument, handlers.get)
    host.endpoints.serve(ListDocuments, handlers.list)
