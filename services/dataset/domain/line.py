"""An expert's line of dataset versions, pure: who gets which version number. A build and every
revision is one event on it, so no two versions share a number."""

from __future__ import annotations

import msgspec

from contracts.dataset import DatasetBuildRequested, DatasetRevised


class LineState(msgspec.Struct, frozen=True):
    versions: int = 0  # the highest version number handed out


LINE = LineState()


def evolve_line(state: LineState, event: object) -> LineState:
    match event:
        case DatasetBuildRequested(version=version) | DatasetRevised(version=version):
            return LineState(versions=max(state.versions, version))
    return state


def next_version(state: LineState) -> int:
    return state.versions + 1
