"""The page-labelled manuals: real PDFs whose labels point at the page that is printed.

Read through the ingest reader (`services.ingest.reader.read`, the code the sandboxed child
runs): the key sentence of every labelled question must be in the text of its page and of
no other page, so a retrieval benchmark that trusts the labels measures retrieval, not
mislabelling.
"""

from __future__ import annotations

import io
import json

import pytest

from services.ingest.parsing import parse_document
from services.ingest.reader import read
from services.ingest.sandbox import Limits
from tests.support.manual_set import MANUALS

LIMITS = Limits(
    max_pages=100, chunk_size=1000, chunk_overlap=150, memory_bytes=1 << 30, timeout_s=60
)


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module", params=MANUALS, ids=lambda m: m.filename)
def manual(request):
    return request.param


def test_the_reader_reads_every_page_of_the_manual(manual):
    answer, body = read(io.BytesIO(manual.build()), "application/pdf", LIMITS)
    assert answer.outcome == "read", answer
    assert answer.pages == len(manual.page_texts)
    chunk_pages = {row["page"] for row in json.loads(body)}
    assert chunk_pages == set(range(1, answer.pages + 1))  # every page has text


def test_every_key_sentence_is_on_its_labelled_page_and_only_there(manual):
    pages = parse_document(manual.build(), "application/pdf", max_pages=100)
    texts = [_flat(page.text) for page in pages]
    for q in manual.questions:
        if q.page is None:
            continue
        where = [n for n, text in enumerate(texts, start=1) if _flat(q.key_sentence) in text]
        assert where == [q.page], q.question


def test_the_set_is_large_and_has_unanswerable_questions(manual):
    answered = [q for q in manual.questions if q.page is not None]
    assert len(answered) >= (40 if len(manual.page_texts) > 30 else 10)
    assert any(q.page is None for q in manual.questions)
    assert all(q.document == manual.filename for q in manual.questions)
    assert len({q.question for q in manual.questions}) == len(manual.questions)


def test_the_manual_pdf_is_the_same_bytes_every_time(manual):
    assert manual.build() == manual.build()
