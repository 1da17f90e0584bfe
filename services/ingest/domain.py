"""The Document aggregate: pure decisions about one uploaded document, no I/O.

A document's id is derived from (tenant, expert, sha256), so identical bytes uploaded to the
same expert land on the same aggregate: a second upload decides nothing (deduplicated), and
two racing uploads cannot both win (the append's expected sequence refuses the loser).
Deleting and uploading again starts a new revision; work for an old revision is ignored.

Whether a document may belong to an expert is decided from the expert's own events (the
EXPERT log), never from another context's eventually consistent view: `expert_is_live`.
"""

from __future__ import annotations

import msgspec

from contracts.base import DomainError, ErrorCode, ObjectRef
from contracts.expert import ExpertCreated, ExpertDeleted
from contracts.ingest import (
    DocumentChunked,
    DocumentDeleted,
    DocumentParsingStarted,
    DocumentRejected,
    DocumentUploaded,
    RegisterUpload,
)

LIVE = ("uploaded", "parsing", "chunked", "rejected")


class DocumentState(msgspec.Struct, frozen=True):
    status: str = "none"  # none | uploaded | parsing | chunked | rejected | deleted
    revision: int = 0
    expert_id: str = ""
    filename: str = ""
    upload: DocumentUploaded | None = None


INITIAL = DocumentState()


def evolve(state: DocumentState, event: object) -> DocumentState:
    replace = msgspec.structs.replace
    match event:
        case DocumentUploaded():
            return DocumentState(
                status="uploaded",
                revision=event.revision,
                expert_id=event.expert_id,
                filename=event.filename,
                upload=event,
            )
        case DocumentParsingStarted():
            return replace(state, status="parsing")
        case DocumentChunked():
            return replace(state, status="chunked")
        case DocumentRejected():
            return replace(state, status="rejected")
        case DocumentDeleted():
            return replace(state, status="deleted")
    return state


def decide_upload(state: DocumentState, cmd: RegisterUpload, document_id: str):
    """A new revision, or None when these bytes are already a live document of the expert."""
    if state.status in LIVE:
        return None
    return DocumentUploaded(
        document_id=document_id,
        expert_id=cmd.expert_id,
        revision=state.revision + 1,
        filename=cmd.filename,
        media_type=cmd.media_type,
        sha256=cmd.object.sha256,
        size=cmd.object.size,
        object=cmd.object,
    )


def decide_start_parsing(state: DocumentState, revision: int):
    if state.revision == revision and state.status == "uploaded":
        return DocumentParsingStarted(document_id=_id(state), revision=revision)
    return None


def still_parsing(state: DocumentState, revision: int) -> bool:
    """True while the work for `revision` is wanted (not deleted, superseded or finished)."""
    return state.revision == revision and state.status in ("uploaded", "parsing")


def decide_chunked(state: DocumentState, revision: int, done: DocumentChunked):
    return done if still_parsing(state, revision) else None


def decide_rejected(state: DocumentState, revision: int, code: str, reason: str):
    if not still_parsing(state, revision):
        return None
    return DocumentRejected(document_id=_id(state), revision=revision, code=code, reason=reason)


def decide_delete(state: DocumentState, document_id: str) -> DocumentDeleted:
    if state.status not in LIVE:
        raise DomainError(ErrorCode.NOT_FOUND, f"document {document_id} was not found")
    return DocumentDeleted(
        document_id=document_id, expert_id=state.expert_id, revision=state.revision
    )


def decide_orphan_delete(state: DocumentState, revision: int):
    """The revision arrived after its expert was deleted: it goes too (the cascade missed it)."""
    if state.revision != revision or state.status not in LIVE:
        return None
    return DocumentDeleted(document_id=_id(state), expert_id=state.expert_id, revision=revision)


def original_to_delete(state: DocumentState, revision: int) -> ObjectRef | None:
    """The original file of a deleted `revision`, if deleting it cannot hurt a live document.

    Every revision of a document stores its original under the same name (the bytes are the
    same), so after a re-upload the object belongs to the new revision: only while the
    document is still deleted at `revision` may its original go.
    """
    if state.status == "deleted" and state.revision == revision and state.upload is not None:
        return state.upload.object
    return None


def expert_is_live(events) -> bool:
    """Whether the expert whose events these are exists and is not deleted."""
    live = False
    for event in events:
        if isinstance(event, ExpertCreated):
            live = True
        elif isinstance(event, ExpertDeleted):
            live = False
    return live


def _id(state: DocumentState) -> str:
    assert state.upload is not None
    return state.upload.document_id
