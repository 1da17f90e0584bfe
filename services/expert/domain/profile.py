"""The Expert aggregate (profile and model backend): pure decide/evolve, no I/O."""

from __future__ import annotations

import msgspec

from contracts.answers import BackendConfigured, ConfigureBackend
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
    backend: BackendConfigured | None = None  # None: the bundled local model
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
        case BackendConfigured():
            return msgspec.structs.replace(state, backend=event, version=state.version + 1)
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


def decide_backend(
    state: ExpertState, cmd: ConfigureBackend, sealed: str | None, key_id: str | None
) -> BackendConfigured | None:
    """The backend as configured; `sealed` is the new key sealed, or None to keep or drop the
    stored one as the command says. A key is kept only for the same server."""
    _require_live(state, cmd.expert_id)
    if cmd.kind != "local" and not cmd.base_url:
        raise DomainError(ErrorCode.INVALID, f"base_url is needed for a {cmd.kind} backend")
    if cmd.kind == "openai" and not cmd.model:
        raise DomainError(ErrorCode.INVALID, "model is needed for an OpenAI-compatible backend")
    if cmd.base_url and not cmd.base_url.startswith(("http://", "https://")):
        raise DomainError(ErrorCode.INVALID, "base_url must start with http:// or https://")
    old = state.backend
    if sealed is None and cmd.api_key is None and old and old.base_url == cmd.base_url:
        sealed, key_id = old.api_key_sealed, old.key_id
    if cmd.kind == "local":
        sealed = key_id = None
    event = BackendConfigured(
        expert_id=cmd.expert_id,
        kind=cmd.kind,
        base_url=cmd.base_url if cmd.kind != "local" else None,
        model=cmd.model,
        api_key_sealed=sealed,
        key_id=key_id,
        timeout_s=cmd.timeout_s,
    )
    return None if event == old else event


def require_live(state: ExpertState, expert_id: str) -> Profile:
    _require_live(state, expert_id)
    return state.profile
