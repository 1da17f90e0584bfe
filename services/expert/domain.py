"""The Expert aggregate (profile part): pure decide/evolve, no I/O."""

from __future__ import annotations

import msgspec

from contracts.base import DomainError, ErrorCode
from contracts.expert import (
    CreateExpert,
    DeleteExpert,
    ExpertCreated,
    ExpertDeleted,
    ExpertUpdated,
    Profile,
    ProfilePatch,
    UpdateExpert,
)


class ExpertState(msgspec.Struct, frozen=True):
    exists: bool = False
    deleted: bool = False
    profile: Profile | None = None
    version: int = 0  # number of events applied


INITIAL = ExpertState()


def evolve(state: ExpertState, event: object) -> ExpertState:
    match event:
        case ExpertCreated(profile=profile):
            return ExpertState(exists=True, profile=profile, version=state.version + 1)
        case ExpertUpdated(changes=changes):
            return msgspec.structs.replace(
                state, profile=apply_patch(state.profile, changes), version=state.version + 1
            )
        case ExpertDeleted():
            return msgspec.structs.replace(state, deleted=True, version=state.version + 1)
    return state


def apply_patch(profile: Profile | None, patch: ProfilePatch) -> Profile | None:
    if profile is None:
        return None
    changes = {
        f: getattr(patch, f)
        for f in patch.__struct_fields__
        if getattr(patch, f) is not msgspec.UNSET
    }
    return msgspec.structs.replace(profile, **changes)


def validate(profile: Profile) -> Profile:
    """Sizes and characters are the contract's rules; here only what needs the whole profile."""
    name = profile.name.strip()
    if not name:
        raise DomainError(ErrorCode.INVALID, "name must not be empty")
    return msgspec.structs.replace(profile, name=name)


def decide_create(state: ExpertState, cmd: CreateExpert, expert_id: str) -> ExpertCreated:
    if state.exists:
        raise DomainError(ErrorCode.CONFLICT, f"expert {expert_id} already exists")
    return ExpertCreated(expert_id=expert_id, profile=validate(cmd.profile))


def decide_update(state: ExpertState, cmd: UpdateExpert) -> ExpertUpdated | None:
    _require_live(state, cmd.expert_id)
    if cmd.expected_version is not None and cmd.expected_version != state.version:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"expert {cmd.expert_id} is at version {state.version}, not {cmd.expected_version};"
            " someone else changed it — reload and try again",
        )
    changes = cmd.changes
    if isinstance(changes.name, str):
        changes = msgspec.structs.replace(changes, name=changes.name.strip())
    updated = validate(apply_patch(state.profile, changes))
    if updated == state.profile:
        return None
    return ExpertUpdated(expert_id=cmd.expert_id, changes=changes)


def decide_delete(state: ExpertState, cmd: DeleteExpert) -> ExpertDeleted:
    _require_live(state, cmd.expert_id)
    return ExpertDeleted(expert_id=cmd.expert_id)


def _require_live(state: ExpertState, expert_id: str) -> None:
    if not state.exists or state.deleted:
        raise DomainError(ErrorCode.NOT_FOUND, f"expert {expert_id} was not found")
