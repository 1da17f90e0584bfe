"""One dataset version's build, pure: building → ready | failed | cancelled."""

from __future__ import annotations

import msgspec

from contracts.base import DomainError, ErrorCode
from contracts.dataset import (
    DatasetBuildCancelled,
    DatasetBuildFailed,
    DatasetBuildProgressed,
    DatasetBuilt,
)


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
