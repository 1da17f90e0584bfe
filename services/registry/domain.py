"""An expert's versions, pure: `evolve` folds the log into `Versions`; each `decide_*` turns
a request into the one event that records it, or refuses with a DomainError whose sentence
a person reads (and the audit trail keeps).

The deployment is the chain of versions activated, newest last (`history`); the base model
is `None`. Activating pushes onto it; rolling back to the previous pops the newest; rolling
back to a chosen version pushes that one, so undoing that rollback works the same way.
Only a valid version trained on the expert's base model (`bases.ExpertBase`) is deployed.
An import registers under an id of its own (`decide_import`), the same files once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from contracts.base import DomainError, ErrorCode
from contracts.registry import (
    STABLE,
    AdapterActivated,
    AdapterChecked,
    AdapterDeleted,
    AdapterRegistered,
    AdapterRolledBack,
    AdapterTagged,
    DeployedAdapter,
    VersionsErased,
)
from services.registry.bases import ExpertBase

MAX_TAGS = 32


@dataclass(frozen=True)
class Version:
    registered: AdapterRegistered
    tags: tuple[str, ...]
    valid: bool
    problems: tuple[str, ...]

    @property
    def adapter_id(self) -> str:
        return self.registered.adapter_id

    def deployed(self) -> DeployedAdapter:
        r = self.registered
        return DeployedAdapter(
            adapter_id=r.adapter_id,
            base_model=r.base_model,
            files=list(r.files),
            provider_model=r.provider_model,
        )


@dataclass(frozen=True)
class Versions:
    versions: dict[str, Version] = field(default_factory=dict)  # live ones, by adapter id
    deleted: dict[str, Version] = field(default_factory=dict)  # what each deleted one was
    history: tuple[str | None, ...] = ()  # activated versions, newest last; () = base model
    deployment: int = 0  # activations and rollbacks so far
    erased: bool = False  # the expert was deleted: nothing of its versions may come back

    @property
    def active(self) -> str | None:
        return self.history[-1] if self.history else None


INITIAL = Versions()


def evolve(state: Versions, event: object) -> Versions:
    match event:
        case AdapterRegistered() as ev:
            version = Version(ev, tuple(ev.tags), ev.valid, tuple(ev.problems))
            return replace(state, versions={**state.versions, ev.adapter_id: version})
        case AdapterTagged() as ev if ev.adapter_id in state.versions:
            version = replace(state.versions[ev.adapter_id], tags=tuple(ev.tags))
            return replace(state, versions={**state.versions, ev.adapter_id: version})
        case AdapterChecked() as ev if ev.adapter_id in state.versions:
            version = replace(
                state.versions[ev.adapter_id], valid=ev.valid, problems=tuple(ev.problems)
            )
            return replace(state, versions={**state.versions, ev.adapter_id: version})
        case AdapterDeleted() as ev:
            if ev.adapter_id not in state.versions:
                return state
            versions = dict(state.versions)
            deleted = {**state.deleted, ev.adapter_id: versions.pop(ev.adapter_id)}
            return replace(state, versions=versions, deleted=deleted)
        case AdapterActivated() as ev:
            target = ev.adapter.adapter_id if ev.adapter else None
            return replace(state, history=(*state.history, target), deployment=ev.version)
        case VersionsErased():
            return replace(state, erased=True)
        case AdapterRolledBack() as ev:
            target = ev.adapter.adapter_id if ev.adapter else None
            history = (*state.history, target) if ev.chosen else state.history[:-1]
            return replace(state, history=history, deployment=ev.version)
    return state


# ---- decisions -------------------------------------------------------------------------------


def version_of(state: Versions, adapter_id: str) -> Version:
    if adapter_id in state.deleted:
        raise DomainError(ErrorCode.NOT_FOUND, f"version {adapter_id} was deleted")
    if adapter_id not in state.versions:
        raise DomainError(ErrorCode.NOT_FOUND, f"version {adapter_id} not found")
    return state.versions[adapter_id]


def check_expected(state: Versions, expected: int | None) -> None:
    if expected is not None and expected != state.deployment:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"the active version changed since you looked (deployment {state.deployment},"
            f" you saw {expected}): reload and choose again",
        )


def activatable(
    state: Versions, adapter_id: str | None, base: ExpertBase | None = None
) -> DeployedAdapter | None:
    """The version to deploy (None: the base model), or a refusal saying why not: it is
    invalid, or (`base` given) it was trained on another base model than the expert's."""
    if adapter_id is None:
        return None
    version = version_of(state, adapter_id)
    if not version.valid:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"version {adapter_id} is invalid and cannot be activated: "
            + "; ".join(version.problems or ("its files failed their integrity check",)),
        )
    if base is not None:
        base.check(version.registered)
    return version.deployed()


def decide_activate(
    state: Versions, expert_id: str, adapter_id: str | None, expected: int | None, by: str,
    reason: str = "", base: ExpertBase | None = None,
) -> AdapterActivated | None:  # fmt: skip
    check_expected(state, expected)
    adapter = activatable(state, adapter_id, base)
    if adapter_id == state.active:
        return None  # already answering with it: nothing changes, nothing to record
    return AdapterActivated(
        expert_id=expert_id,
        adapter=adapter,
        previous_adapter_id=state.active,
        version=state.deployment + 1,
        by=by,
        reason=reason,
    )


def rollback_target(state: Versions, to: str | None, chosen: bool) -> str | None:
    """Which version a rollback goes to: the one before the active one, or the chosen one."""
    if chosen:
        if to == state.active:
            name = "the base model" if to is None else f"version {to}"
            raise DomainError(ErrorCode.CONFLICT, f"{name} is already active")
        return to
    if not state.history:
        raise DomainError(
            ErrorCode.CONFLICT,
            "there is nothing to roll back to: the expert answers with its base model and"
            " no version was activated before",
        )
    return state.history[-2] if len(state.history) > 1 else None


def decide_rollback(
    state: Versions, expert_id: str, to: str | None, chosen: bool, expected: int | None,
    by: str, reason: str = "", base: ExpertBase | None = None,
) -> AdapterRolledBack:  # fmt: skip
    check_expected(state, expected)
    target = rollback_target(state, to, chosen)
    if target is not None and target in state.deleted:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"the version before, {target}, was deleted: choose a version to roll back to",
        )
    return AdapterRolledBack(
        expert_id=expert_id,
        adapter=activatable(state, target, base),
        previous_adapter_id=state.active,
        version=state.deployment + 1,
        chosen=chosen,
        by=by,
        reason=reason,
    )


def decide_tag(
    state: Versions, expert_id: str, adapter_id: str, add: list[str], remove: list[str], by: str
) -> AdapterTagged | None:
    version = version_of(state, adapter_id)
    wanted = [t.strip() for t in add if t.strip()]
    tags = [t for t in version.tags if t not in remove]
    tags += [t for t in dict.fromkeys(wanted) if t not in tags]
    if len(tags) > MAX_TAGS:
        raise DomainError(ErrorCode.INVALID, f"a version holds at most {MAX_TAGS} tags")
    if tags == list(version.tags):
        return None
    return AdapterTagged(
        adapter_id=adapter_id,
        expert_id=expert_id,
        tags=tags,
        added=[t for t in tags if t not in version.tags],
        removed=[t for t in version.tags if t not in tags],
        by=by,
    )


def decide_delete(state: Versions, expert_id: str, adapter_id: str, by: str) -> AdapterDeleted:
    version = version_of(state, adapter_id)
    if adapter_id == state.active:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"version {adapter_id} is active: activate another version (or the base model)"
            " before deleting it",
        )
    if STABLE in version.tags:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"version {adapter_id} is tagged '{STABLE}': remove the tag to delete it",
        )
    return AdapterDeleted(
        adapter_id=adapter_id,
        expert_id=expert_id,
        freed_bytes=version.registered.size_bytes,
        by=by,
    )


def duplicate_of(state: Versions, digest: str) -> Version | None:
    """The expert's live version with these very files (`whole_digest`), if it has one."""
    for version in state.versions.values():
        if version.registered.sha256 == digest:
            return version
    return None


def decide_import(state: Versions, registered: AdapterRegistered) -> AdapterRegistered:
    """An imported version under the id allocated for this import (never its manifest's:
    a manifest's id may be another expert's version, whose files would then be shared).
    An id this expert ever had is refused: its files and its history are that version's."""
    if registered.adapter_id in state.versions or registered.adapter_id in state.deleted:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"the id {registered.adapter_id} is already a version of this expert; import again",
        )
    return registered


def decide_checked(
    state: Versions, expert_id: str, adapter_id: str, problems: list[str], by: str,
    *, always: bool,
) -> AdapterChecked | None:  # fmt: skip
    """The result of hashing a version's files again; recorded when it changes the
    version's state, or always when a person asked for the check."""
    version = version_of(state, adapter_id)
    valid = not problems
    if not always and valid == version.valid and tuple(problems) == version.problems:
        return None
    return AdapterChecked(
        adapter_id=adapter_id, expert_id=expert_id, valid=valid, problems=problems[:16], by=by
    )
