"""Small helpers that drive the services over NATS the way the gateway does."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable

from contracts.base import Accepted
from contracts.dataset import DatasetView, ExamplePage, GetDataset, ListExamples
from contracts.expert import CreateExpert, Profile
from contracts.ingest import (
    DOCUMENTS_BUCKET,
    DocumentView,
    GetDocument,
    RegisterUpload,
    UploadRegistered,
)
from contracts.knowledge import GetIndexStatus, IndexStatuses, Search, SearchResults
from runtime.rpc import DomainError, request
from tests.support.objects import sealed_objects


async def create_expert(nc, name: str | None = None) -> str:
    reply = await request(
        nc,
        "cmd.expert.create",
        CreateExpert(profile=Profile(name=name or f"expert-{uuid.uuid4().hex[:6]}")),
        Accepted,
    )
    return reply.id


async def upload(
    nc, expert_id: str, filename: str, data: bytes, media_type: str
) -> UploadRegistered:
    sha = hashlib.sha256(data).hexdigest()
    name = f"local/{expert_id}/{sha}"
    ref = await sealed_objects(nc).put(DOCUMENTS_BUCKET, name, data, tenant="local")
    cmd = RegisterUpload(expert_id=expert_id, filename=filename, media_type=media_type, object=ref)
    return await request(nc, "cmd.ingest.register_upload", cmd, UploadRegistered)


async def status_of(nc, document_id: str) -> tuple[str, DocumentView]:
    """The status a person sees: ingest's, refined by the index once the text is chunked."""
    doc = await request(nc, "qry.ingest.get", GetDocument(document_id=document_id), DocumentView)
    if doc.status != "chunked":
        return doc.status, doc
    statuses = await request(
        nc, "qry.knowledge.status", GetIndexStatus(document_ids=[document_id]), IndexStatuses
    )
    for s in statuses.statuses:
        if s.revision == doc.revision:
            return ("rejected" if s.status == "failed" else s.status), doc
    return "embedding", doc


async def wait_settled(nc, document_id: str, timeout: float = 90.0) -> tuple[str, DocumentView]:
    """Wait until the document is ready or rejected."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            status, doc = await status_of(nc, document_id)
        except DomainError as err:  # a service restarting answers nothing for a moment
            if err.code != "unavailable":
                raise
            status = "unavailable"
        else:
            if status in ("ready", "rejected"):
                return status, doc
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"document {document_id} stuck in {status}")
        await asyncio.sleep(0.1)


async def search(nc, expert_id: str, q: str, k: int = 5) -> SearchResults:
    return await request(
        nc, "qry.knowledge.search", Search(expert_id=expert_id, q=q, k=k), SearchResults
    )


def build_ended(nc, accepted: Accepted) -> Callable[[], Awaitable[DatasetView | None]]:
    """What to wait on (with `until`) for a build: its view once it is no longer building,
    None before."""

    async def ended() -> DatasetView | None:
        query = GetDataset(dataset_id=accepted.id, after_seq=accepted.seq)
        view = await request(nc, "qry.dataset.get", query, DatasetView)
        return view if view.status != "building" else None

    return ended


async def built_examples(nc, accepted: Accepted, tenant: str = "local") -> list:
    """The examples of a dataset build, once it has finished."""
    for _ in range(300):
        query = GetDataset(tenant=tenant, dataset_id=accepted.id, after_seq=accepted.seq)
        if (await request(nc, "qry.dataset.get", query, DatasetView)).status != "building":
            page = ListExamples(tenant=tenant, dataset_id=accepted.id)
            return (await request(nc, "qry.dataset.examples", page, ExamplePage)).examples
        await asyncio.sleep(0.05)
    raise AssertionError(f"dataset {accepted.id} did not finish building")
