"""The status a person sees: ingest's, refined by the knowledge index once chunked."""

from __future__ import annotations

import pytest

from contracts.ingest import DocumentView
from contracts.knowledge import IndexStatus
from gateway.ingest.status import (
    INDEX_FAILED_REASON,
    merge_documents,
    merge_status,
    needs_index_status,
)


def doc(status: str, *, revision: int = 1, reason: str | None = None, id: str = "d1"):
    return DocumentView(
        id=id,
        expert_id="e1",
        filename="notes.pdf",
        status=status,
        revision=revision,
        sha256="0" * 64,
        reason=reason,
    )


def index(status: str, *, revision: int = 1, reason: str | None = None, id: str = "d1"):
    return IndexStatus(document_id=id, revision=revision, status=status, reason=reason)


@pytest.mark.parametrize("status", ["uploaded", "parsing"])
def test_before_chunking_ingest_decides_even_if_the_index_disagrees(status):
    assert merge_status(doc(status), index("ready")) == (status, None)


def test_rejected_by_ingest_keeps_its_reason():
    rejected = doc("rejected", reason="This PDF is protected by a password.")
    assert merge_status(rejected, None) == ("rejected", "This PDF is protected by a password.")


def test_chunked_without_index_status_is_embedding():
    assert merge_status(doc("chunked"), None) == ("embedding", None)


@pytest.mark.parametrize(
    ("index_status", "shown"), [("embedding", "embedding"), ("ready", "ready")]
)
def test_chunked_follows_the_index_of_the_same_revision(index_status, shown):
    assert merge_status(doc("chunked"), index(index_status)) == (shown, None)


def test_index_failure_is_shown_as_rejected_with_its_reason():
    failed = index("failed", reason="The embedding model ran out of memory.")
    assert merge_status(doc("chunked"), failed) == (
        "rejected",
        "The embedding model ran out of memory.",
    )


def test_index_failure_without_reason_still_explains():
    assert merge_status(doc("chunked"), index("failed")) == ("rejected", INDEX_FAILED_REASON)


def test_index_status_of_an_older_revision_does_not_count():
    assert merge_status(doc("chunked", revision=2), index("ready", revision=1)) == (
        "embedding",
        None,
    )


def test_index_status_of_another_document_does_not_count():
    assert merge_status(doc("chunked"), index("ready", id="other")) == ("embedding", None)


def test_only_chunked_documents_need_the_index():
    docs = [doc("parsing", id="a"), doc("chunked", id="b"), doc("rejected", id="c")]
    assert needs_index_status(docs) == ["b"]


def test_merge_documents_matches_by_id_and_revision():
    docs = [doc("chunked", id="a", revision=2), doc("chunked", id="b"), doc("uploaded", id="c")]
    statuses = [
        index("ready", id="a", revision=1),
        index("ready", id="a", revision=2),
        index("failed", id="b", reason="broken"),
    ]
    merged = merge_documents(docs, statuses)
    assert [(d.id, d.status, d.reason) for d in merged] == [
        ("a", "ready", None),
        ("b", "rejected", "broken"),
        ("c", "uploaded", None),
    ]
