"""Ingest decisions around deletion: which original a cleanup may delete, uploads that
outlived their expert, and whether an expert takes documents. Given / when / then."""

from contracts.base import ObjectRef
from contracts.expert import ExpertCreated, ExpertDeleted, ExpertUpdated, Profile, ProfilePatch
from contracts.ingest import DocumentDeleted, DocumentRejected, RegisterUpload
from services.ingest import domain

REF = ObjectRef(bucket="documents", name="local/e1/abc", sha256="abc", size=10)
UPLOAD = RegisterUpload(expert_id="e1", filename="a.pdf", media_type="application/pdf", object=REF)


def history(*steps: str):
    """Events of document d1: "up" uploads the next revision, "del" deletes the current one."""
    state, events = domain.INITIAL, []
    for step in steps:
        if step == "up":
            event = domain.decide_upload(state, UPLOAD, "d1")
        else:
            event = domain.decide_delete(state, "d1")
        events.append(event)
        state = domain.evolve(state, event)
    return state


def test_the_original_of_a_deleted_revision_may_go():
    assert domain.original_to_delete(history("up", "del"), 1) == REF


def test_the_original_stays_when_the_document_was_uploaded_again():
    assert domain.original_to_delete(history("up", "del", "up"), 1) is None


def test_a_later_revisions_deletion_is_not_an_older_ones():
    state = history("up", "del", "up", "del")
    assert domain.original_to_delete(state, 1) is None
    assert domain.original_to_delete(state, 2) == REF


def test_an_upload_after_its_experts_deletion_is_deleted():
    state = history("up")
    assert domain.decide_orphan_delete(state, 1) == DocumentDeleted(
        document_id="d1", expert_id="e1", revision=1
    )
    rejected = DocumentRejected(document_id="d1", revision=1, code="no_text", reason="x")
    assert domain.decide_orphan_delete(domain.evolve(state, rejected), 1) is not None


def test_an_orphan_delete_decides_nothing_once_deleted_or_superseded():
    assert domain.decide_orphan_delete(history("up", "del"), 1) is None
    assert domain.decide_orphan_delete(history("up", "del", "up"), 1) is None


def test_an_expert_takes_documents_from_creation_until_deletion():
    created = ExpertCreated(expert_id="e1", profile=Profile(name="E"))
    updated = ExpertUpdated(expert_id="e1", changes=ProfilePatch(name="F"))
    deleted = ExpertDeleted(expert_id="e1")
    assert not domain.expert_is_live([])
    assert domain.expert_is_live([created, updated])
    assert not domain.expert_is_live([created, updated, deleted])
