"""The knowledge slice over the real embedded NATS + Postgres: upload -> ready -> cited search."""

from __future__ import annotations

import pytest

from contracts.base import Accepted
from contracts.ingest import DeleteDocument
from runtime.rpc import DomainError, request
from tests.support import pdfs
from tests.support.flows import create_expert, search, upload, wait_settled

pytestmark = pytest.mark.integration

FILLER = (
    "This page discusses general background material about the history of measurement, "
    "units, and the habits of careful record keeping in laboratories. "
) * 6
NEEDLE = "The boiling point of the rare liquid zentrofane is exactly 47 degrees Celsius."


def book(needle_page: int, pages: int = 8) -> bytes:
    texts = [f"Page {i} heading. {FILLER}" for i in range(1, pages + 1)]
    texts[needle_page - 1] = f"Chapter on fluids. {NEEDLE} {FILLER}"
    return pdfs.make_pdf(texts)


async def test_search_finds_a_sentence_on_the_page_it_is_printed(services, nc):
    expert = await create_expert(nc)
    reg = await upload(nc, expert, "fluids.pdf", book(needle_page=6), "application/pdf")
    status, doc = await wait_settled(nc, reg.document.id)
    assert status == "ready"
    assert doc.pages == 8 and doc.chunks > 8
    hits = (await search(nc, expert, "At what temperature does zentrofane boil?")).results
    assert hits[0].page == 6
    assert "zentrofane" in hits[0].text
    assert hits[0].filename == "fluids.pdf" and hits[0].document_id == reg.document.id
    assert hits[0].score == 1.0  # first by meaning and by keywords, though "temperature" is absent


async def test_identical_reupload_is_deduplicated(services, nc):
    expert = await create_expert(nc)
    data = book(needle_page=2, pages=3)
    first = await upload(nc, expert, "a.pdf", data, "application/pdf")
    again = await upload(nc, expert, "renamed.pdf", data, "application/pdf")
    assert again.duplicate and not first.duplicate
    assert again.document.id == first.document.id
    await wait_settled(nc, first.document.id)
    hits = (await search(nc, expert, "zentrofane boiling point", k=20)).results
    assert len({h.chunk_id for h in hits}) == len(hits)
    assert {h.filename for h in hits} == {"a.pdf"}


async def test_search_is_scoped_to_one_expert(services, nc):
    owner, stranger = await create_expert(nc), await create_expert(nc)
    reg = await upload(nc, owner, "fluids.pdf", book(needle_page=1, pages=2), "application/pdf")
    await wait_settled(nc, reg.document.id)
    assert (await search(nc, stranger, "zentrofane")).results == []


async def test_deleted_document_leaves_the_index(services, nc):
    expert = await create_expert(nc)
    reg = await upload(nc, expert, "fluids.pdf", book(needle_page=3, pages=4), "application/pdf")
    await wait_settled(nc, reg.document.id)
    assert (await search(nc, expert, "zentrofane")).results
    deleted = await request(
        nc, "cmd.ingest.delete", DeleteDocument(document_id=reg.document.id), Accepted
    )
    assert deleted.seq > 0
    for host in services.values():
        await host.wait_caught_up()
    assert (await search(nc, expert, "zentrofane")).results == []
    with pytest.raises(DomainError) as err:
        await request(
            nc, "cmd.ingest.delete", DeleteDocument(document_id=reg.document.id), Accepted
        )
    assert err.value.code == "not_found"


@pytest.mark.parametrize(
    ("make", "code_words"),
    [
        (lambda: pdfs.make_encrypted_pdf("secret text"), "password"),
        (pdfs.make_corrupt_pdf, "damaged"),
        (pdfs.make_image_only_pdf, "scanned"),
        (lambda: pdfs.make_pdf([f"page {i}" for i in range(45)]), "45"),
    ],
    ids=["encrypted", "corrupt", "scanned", "too-many-pages"],
)
async def test_bad_documents_are_rejected_with_a_reason_and_others_survive(
    services, nc, make, code_words
):
    expert = await create_expert(nc)
    good = await upload(nc, expert, "good.pdf", book(needle_page=1, pages=2), "application/pdf")
    bad = await upload(nc, expert, "bad.pdf", make(), "application/pdf")
    status, doc = await wait_settled(nc, bad.document.id)
    assert status == "rejected"
    assert code_words in doc.reason.lower()
    assert (await wait_settled(nc, good.document.id))[0] == "ready"
    assert (await search(nc, expert, "zentrofane")).results[0].document_id == good.document.id


async def test_text_and_markdown_files_are_searchable(services, nc):
    expert = await create_expert(nc)
    md = b"# Glossary\n\nA *quarnel* is a small copper fastener used in old clocks.\n"
    reg = await upload(nc, expert, "glossary.md", md, "text/markdown")
    assert (await wait_settled(nc, reg.document.id))[0] == "ready"
    hit = (await search(nc, expert, "what is a quarnel")).results[0]
    assert hit.page == 1 and "copper fastener" in hit.text
