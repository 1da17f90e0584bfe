"""Uploads that race: with each other (identical bytes), and with their expert's deletion.

Ingest decides from the EXPERT log itself whether an expert takes documents, and the parse
reaction checks it again, so an upload that slips past the deletion is deleted as well:
no document outlives its expert.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import pytest

from contracts.base import Accepted
from contracts.expert import DeleteExpert
from contracts.ingest import DOCUMENTS_BUCKET, DocumentList, DocumentUploaded, ListDocuments
from contracts.knowledge import GetIndexStatus, IndexStatuses
from runtime.objects import ObjectMissing
from runtime.rpc import DomainError, request
from services.ingest.aggregates import document_id_for
from tests.support import api as http
from tests.support import pdfs
from tests.support.flows import create_expert, upload, wait_settled
from tests.support.log import log_store
from tests.support.objects import sealed_objects
from tests.support.waiting import until

pytestmark = pytest.mark.integration

MD = "text/markdown"


async def ingest_log(nc, document_id: str) -> list[str]:
    events, _ = await log_store(nc).load("ingest", "local", "document", document_id)
    return [rec.type.split(".")[1] for rec in events]


async def until_deleted(nc, document_id: str, timeout: float = 60.0) -> list[str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while (kinds := await ingest_log(nc, document_id))[-1:] != ["DocumentDeleted"]:
        assert asyncio.get_running_loop().time() < deadline, f"{document_id} lives on: {kinds}"
        await asyncio.sleep(0.1)
    return kinds


async def delete_expert(nc, expert_id: str) -> None:
    await request(nc, "cmd.expert.delete", DeleteExpert(expert_id=expert_id), Accepted)


async def documents_of(services, nc, expert_id: str) -> DocumentList:
    for host in services.values():
        await host.wait_caught_up()
    return await request(nc, "qry.ingest.list", ListDocuments(expert_id=expert_id), DocumentList)


def note(n: int) -> bytes:
    return f"# Note {n}\n\nNote {n} of the racing uploads, about brass hinges.\n".encode()


async def test_racing_identical_uploads_make_one_document(stack, api):
    expert = (await http.new_expert(api))["id"]
    data = pdfs.make_pdf(["A manual about brass hinges and how to oil them. " * 20])
    responses = await asyncio.gather(
        *[http.upload(api, expert, (f"copy{n}.pdf", data)) for n in range(8)]
    )
    assert [r.status_code for r in responses] == [202] * 8
    docs = [r.json()["documents"][0] for r in responses]
    assert len({d["id"] for d in docs}) == 1
    assert sorted(d["duplicate"] for d in docs) == [False] + [True] * 7
    await http.settled(api, docs[0]["id"])
    listed = (await api.get(f"/api/experts/{expert}/documents")).json()
    assert [d["id"] for d in listed] == [docs[0]["id"]]
    assert (await ingest_log(stack.hosts["ingest"].nc, docs[0]["id"])).count(
        "DocumentUploaded"
    ) == 1


async def test_uploads_to_a_deleted_or_unknown_expert_are_refused(services, nc):
    expert = await create_expert(nc)
    await delete_expert(nc, expert)
    for expert_id in (expert, uuid.uuid4().hex[:12]):
        with pytest.raises(DomainError) as err:
            await upload(nc, expert_id, "late.md", note(0), MD)
        assert err.value.code == "not_found"
        assert err.value.detail == f"expert {expert_id} was not found"


async def test_an_upload_reaching_the_log_after_its_expert_was_deleted_is_deleted(services, nc):
    """What a register_upload that checked the expert just before its deletion appends."""
    expert = await create_expert(nc)
    await delete_expert(nc, expert)
    for host in services.values():
        await host.wait_caught_up()  # the cascade has come and gone

    data = note(1)
    sha = hashlib.sha256(data).hexdigest()
    objects = sealed_objects(nc)
    ref = await objects.put(DOCUMENTS_BUCKET, f"local/{expert}/{sha}", data, tenant="local")
    document_id = document_id_for("local", expert, sha)
    late = DocumentUploaded(
        document_id=document_id,
        expert_id=expert,
        revision=1,
        filename="late.md",
        media_type=MD,
        sha256=sha,
        size=len(data),
        object=ref,
    )
    await log_store(nc).append("ingest", "local", "document", document_id, late, expected_seq=0)

    assert await until_deleted(nc, document_id) == ["DocumentUploaded", "DocumentDeleted"]
    assert (await documents_of(services, nc, expert)).documents == []
    deadline = asyncio.get_running_loop().time() + 30
    while True:  # and the cleanup takes its file away
        try:
            await objects.get(ref, tenant="local")
        except ObjectMissing:
            break
        assert asyncio.get_running_loop().time() < deadline, "the orphan's file stayed"
        await asyncio.sleep(0.1)


async def test_uploads_racing_an_experts_deletion_leave_no_document_behind(services, nc):
    expert = await create_expert(nc)

    async def try_upload(n: int):
        await asyncio.sleep(0.005 * (n % 8))  # spread over the moment of the deletion
        try:
            return await upload(nc, expert, f"note{n}.md", note(n), MD)
        except DomainError as err:
            assert err.code == "not_found"
            return None

    # Both outcomes surely happen: uploads finished before the deletion are registered (and
    # indexed, so the index has something to let go of), those asked after it are refused,
    # and the ones in between race it either way.
    before = [await try_upload(n) for n in range(2)]
    for reg in before:
        assert (await wait_settled(nc, reg.document.id))[0] == "ready"

    async def both_indexed() -> bool:
        query = GetIndexStatus(document_ids=[reg.document.id for reg in before])
        statuses = (await request(nc, "qry.knowledge.status", query, IndexStatuses)).statuses
        return [s.status for s in statuses] == ["ready", "ready"]

    await until(both_indexed, what="the first two documents in the index")
    racing = [asyncio.create_task(try_upload(n)) for n in range(2, 14)]
    await delete_expert(nc, expert)
    after = [await try_upload(n) for n in range(14, 16)]
    raced = await asyncio.gather(*racing)
    assert None not in before and after == [None, None]
    registered = [reg for reg in before + raced if reg is not None]

    for reg in registered:
        assert await until_deleted(nc, reg.document.id)
    assert (await documents_of(services, nc, expert)).documents == []
    ids = [reg.document.id for reg in registered]
    deadline = asyncio.get_running_loop().time() + 30
    while True:  # nothing of theirs stays in the search index either
        query = GetIndexStatus(document_ids=ids)
        statuses = (await request(nc, "qry.knowledge.status", query, IndexStatuses)).statuses
        if all(s.status == "removed" for s in statuses):
            break
        assert asyncio.get_running_loop().time() < deadline, f"still indexed: {statuses}"
        await asyncio.sleep(0.1)
