"""Wiring of the knowledge service: the embedder, the index projection, the reactor that
indexes ingest's documents, and the query endpoints."""

from __future__ import annotations

import asyncio

from contracts import ingest
from contracts.ingest import DERIVED_BUCKET
from contracts.knowledge import AGGREGATE as DOCUMENT
from contracts.knowledge import DocumentUnindexed
from runtime.erasure import AfterErased, TenantErasure
from runtime.service import ServiceHost
from services.knowledge.embedder import Embedder, onnx_cache_root
from services.knowledge.projections import IndexProjection
from services.knowledge.queries import KnowledgeQueries
from services.knowledge.reactors import OnDocuments

NAME = "knowledge"


async def build(host: ServiceHost, embedder: Embedder | None = None) -> None:
    if embedder is None:
        s = host.settings
        embedder = await asyncio.to_thread(
            Embedder,
            s.embedding_model,
            batch_size=s.embedding_batch_size,
            backend=s.embedder,
            cache_dir=onnx_cache_root(s.cache_dir),
            threads=s.embed_threads,
        )
    queries, documents = KnowledgeQueries(host, embedder), OnDocuments(host, embedder)
    host.project(IndexProjection(host.objects, embedder.dimensions))
    host.react("knowledge.index", ingest.STREAM, documents.react, give_up=documents.give_up)
    TenantErasure(host, buckets=(DERIVED_BUCKET,)).wire()  # a forgotten person's index
    # what an erasure dropped from the views: no copy left in pages or WAL
    AfterErased(host, DOCUMENT, (DocumentUnindexed,), ("chunks", "documents")).wire()
    host.endpoints.serve_handlers(queries)
