"""An expert's line of dataset versions, pure: who gets which version number, and which versions
an edit has gone on from. A build and every revision is one event on it, so no two versions
share a number and no version is edited into two."""

from __future__ import annotations

import msgspec

from contracts.base import DomainError, ErrorCode
from contracts.dataset import DatasetBuildRequested, DatasetRevised


class LineState(msgspec.Struct, frozen=True):
    versions: int = 0  # the highest version number handed out
    revised: frozenset[str] = frozenset()  # versions an edit has been made from already


LINE = LineState()


def evolve_line(state: LineState, event: object) -> LineState:
    match event:
        case DatasetRevised(version=version, parent=parent):
            return LineState(max(state.versions, version), state.revised | {parent})
        case DatasetBuildRequested(version=version):
            return LineState(max(state.versions, version), state.revised)
    return state


def next_version(state: LineState) -> int:
    return state.versions + 1


def check_unrevised(state: LineState, parent: str) -> None:
    """Edits go on from the newest version: one made from a version another edit has already
    gone on from would start a sibling that lacks that edit (two people, or two tabs)."""
    if parent in state.revised:
        raise DomainError(
            ErrorCode.CONFLICT,
            "a newer version of this dataset was made a moment ago; reload it and edit there",
        )
