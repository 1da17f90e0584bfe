"""The dataset context's aggregates, pure: an expert's line of versions (who gets which
version number) and one version's build (building → ready | failed | cancelled)."""

from __future__ import annotations

import msgspec

from contracts.base import DomainError, ErrorCode
from contracts.dataset import (
    DatasetBuildCancelled,
    DatasetBuildFailed,
    DatasetBuildProgressed,
    DatasetBuildRequested,
    DatasetBuilt,
    DatasetRevised,
)


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


class BuildState(msgspec.Struct, frozen=True):
    status: str = "none"  # none | building | ready | failed | cancelled
    stage: str = ""


BUILD = BuildState()


def evolve_build(state: BuildState, event: object) -> BuildState:
    match event:
        case DatasetBuildProgressed(stage=stage):
            return BuildState(status="building", stage=stage)
        case DatasetBuilt():
            return BuildState(status="ready")
        case DatasetBuildFailed():
            return BuildState(status="failed")
        case DatasetBuildCancelled():
            return BuildState(status="cancelled")
    return state


def still_building(state: BuildState) -> bool:
    return state.status in ("none", "building")


def decide_cancel(state: BuildState, dataset_id: str) -> DatasetBuildCancelled | None:
    if state.status in ("ready", "failed"):
        raise DomainError(
            ErrorCode.CONFLICT, f"dataset {dataset_id} is {state.status}; only a build can stop"
        )
    if state.status == "cancelled":
        return None
    return DatasetBuildCancelled(dataset_id=dataset_id)


def decide_end(state: BuildState, event: object) -> object | None:
    """A build's last word (built or failed) counts only while the build is still going."""
    return event if still_building(state) else None
