"""Document aggregate (ingest) and index aggregate (knowledge): given / when / then."""

from functools import reduce

import pytest

from contracts.base import DomainError, ObjectRef
from contracts.ingest import (
    DocumentDeleted,
    DocumentParsingStarted,
    DocumentRejected,
    RegisterUpload,
)
from contracts.knowledge import DocumentUnindexed, EmbeddingStarted
from services.ingest import domain as ingest
from services.knowledge import domain as knowledge
from tests.support.document_events import chunked, indexed

REF = ObjectRef(bucket="documents", name="local/e1/abc", sha256="abc", size=10)
UPLOAD = RegisterUpload(expert_id="e1", filename="a.pdf", media_type="application/pdf", object=REF)


def given(*events, module=ingest):
    return reduce(module.evolve, events, module.INITIAL)


def uploaded(revision=1):
    state = given(
        *(
            []
            if revision == 1
            else [
                ingest.decide_upload(given(), UPLOAD, "d1"),
                DocumentDeleted(document_id="d1", expert_id="e1", revision=1),
            ]
        )
    )
    return ingest.decide_upload(state, UPLOAD, "d1")


def test_first_upload_is_revision_one():
    event = ingest.decide_upload(given(), UPLOAD, "d1")
    assert event.revision == 1 and event.sha256 == "abc" and event.document_id == "d1"


def test_identical_bytes_again_decide_nothing_even_when_rejected():
    assert ingest.decide_upload(given(uploaded()), UPLOAD, "d1") is None
    rejected = DocumentRejected(document_id="d1", revision=1, code="no_text", reason="r")
    assert ingest.decide_upload(given(uploaded(), rejected), UPLOAD, "d1") is None


def test_upload_after_delete_starts_a_new_revision():
    state = given(uploaded(), DocumentDeleted(document_id="d1", expert_id="e1", revision=1))
    assert ingest.decide_upload(state, UPLOAD, "d1").revision == 2


def test_parsing_starts_once_and_a_redelivery_resumes_it():
    state = given(uploaded())
    assert ingest.decide_start_parsing(state, 1) == DocumentParsingStarted(
        document_id="d1", revision=1
    )
    state = ingest.evolve(state, DocumentParsingStarted(document_id="d1", revision=1))
    assert ingest.decide_start_parsing(state, 1) is None
    assert ingest.still_parsing(state, 1)


def test_work_for_a_deleted_or_finished_revision_is_dropped():
    deleted = given(uploaded(), DocumentDeleted(document_id="d1", expert_id="e1", revision=1))
    assert ingest.decide_chunked(deleted, 1, chunked()) is None
    done = given(uploaded(), chunked())
    assert ingest.decide_rejected(done, 1, "corrupt", "late") is None
    assert ingest.decide_chunked(given(uploaded()), 1, chunked()) == chunked()


def test_delete_needs_a_live_document():
    assert ingest.decide_delete(given(uploaded()), "d1").revision == 1
    with pytest.raises(DomainError) as err:
        ingest.decide_delete(given(), "d1")
    assert err.value.code == "not_found"


def started(rev=1):
    return EmbeddingStarted(document_id="d1", expert_id="e1", revision=rev, chunk_count=5)


def test_index_finishes_only_the_revision_being_embedded():
    state = given(started(), module=knowledge)
    assert knowledge.still_embedding(state, 1) and not knowledge.still_embedding(state, 2)
    assert knowledge.decide_finish(state, indexed()) == indexed()
    assert knowledge.decide_finish(state, indexed(revision=2)) is None
    ready = knowledge.evolve(state, indexed())
    assert knowledge.decide_finish(ready, indexed()) is None  # a redelivery appends nothing
    assert knowledge.decide_start(ready, started()) is None


def test_a_document_removed_while_embedding_is_never_indexed():
    state = given(started(), DocumentUnindexed(document_id="d1", revision=1), module=knowledge)
    assert knowledge.decide_finish(state, indexed()) is None
    assert not knowledge.still_embedding(state, 1)
    assert knowledge.decide_remove(state, DocumentUnindexed(document_id="d1", revision=1)) is None
    assert knowledge.decide_start(state, started(rev=2)) == started(rev=2)
