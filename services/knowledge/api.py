"""Wiring of the knowledge service: the embedder, endpoints, index projection, reactions."""

from __future__ import annotations

import asyncio

from contracts.knowledge import Embed, GetIndexStatus, ListPassages, Search
from runtime.service import ServiceHost
from services.knowledge.embedder import Embedder
from services.knowledge.handlers import KnowledgeHandlers
from services.knowledge.policies import KnowledgePolicies
from services.knowledge.projections import IndexProjection

NAME = "knowledge"


async def build(host: ServiceHost, embedder: Embedder | None = None) -> None:
    if embedder is None:
        s = host.settings
        embedder = await asyncio.to_thread(
            Embedder, s.embedding_model, batch_size=s.embedding_batch_size
        )
    handlers, policies = KnowledgeHandlers(host, embedder), KnowledgePolicies(host, embedder)
    host.project(IndexProjection(host.objects, embedder.dimensions))
    host.react(
        "knowledge.index",
        "INGEST",
        policies.on_ingest,
        give_up=policies.index_failed,
    )
    host.endpoints.serve(Search, handlers.search)
    host.endpoints.serve(GetIndexStatus, handlers.status)
    host.endpoints.serve(Embed, handlers.embed)
    host.endpoints.serve(ListPassages, handlers.passages)
