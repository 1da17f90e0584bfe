"""The knowledge side of a document: is this revision of it in the index? Pure, no I/O."""

from __future__ import annotations

import msgspec

from contracts.knowledge import DocumentIndexed, DocumentUnindexed, EmbeddingStarted, IndexingFailed


class IndexState(msgspec.Struct, frozen=True):
    revision: int = 0
    status: str = "none"  # none | embedding | ready | failed | removed


INITIAL = IndexState()


def evolve(state: IndexState, event: object) -> IndexState:
    match event:
        case EmbeddingStarted(revision=rev):
            return IndexState(revision=rev, status="embedding")
        case DocumentIndexed(revision=rev):
            return IndexState(revision=rev, status="ready")
        case IndexingFailed(revision=rev):
            return IndexState(revision=rev, status="failed")
        case DocumentUnindexed(revision=rev):
            return IndexState(revision=rev, status="removed")
    return state


def still_embedding(state: IndexState, revision: int) -> bool:
    """True while the embedding of `revision` is wanted (not finished, removed or superseded)."""
    return state.revision == revision and state.status == "embedding"


def decide_start(state: IndexState, started: EmbeddingStarted):
    return started if started.revision > state.revision else None


def decide_finish(state: IndexState, event: DocumentIndexed | IndexingFailed):
    if state.revision == event.revision and state.status == "embedding":
        return event
    return None


def decide_remove(state: IndexState, removed: DocumentUnindexed):
    if removed.revision < state.revision or state.status == "removed":
        return None
    return removed
