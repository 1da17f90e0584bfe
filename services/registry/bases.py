"""Which base model a version must have been trained on to be the expert's, pure.

The expert's base model is the one its profile names (`base_model`, set when it was created
or changed since), else the install's local model (`SIMTUNE_BASE_MODEL`), which is what the
expert's local backend loads. It is folded from the expert's own log (EXPERT), read where a
decision needs it (`EXPERT_BASE` in `aggregates`): never from another service's view.

A version trained on another base model cannot be loaded on this one: activating it, rolling
back to it and importing it are refused, naming both models. A hosted version (a model at
its provider, answered by the expert's remote backend) is held to the profile's base model
only when the profile names one: the install's local model says nothing about a provider's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

import msgspec

from contracts.base import DomainError, ErrorCode
from contracts.expert import ExpertCreated, ExpertUpdated
from contracts.registry import AdapterRegistered

ALIASES = {  # names of the bundled base model, as other tools write it
    "smollm2": ("smollm2", "smollm2-135m-instruct", "huggingfacetb/smollm2-135m-instruct"),
}


def same_base(theirs: str, ours: str) -> bool:
    """Whether an adapter trained on `theirs` fits the base model `ours` (a name or a path)."""
    a, b = theirs.strip().rstrip("/").lower(), ours.strip().rstrip("/").lower()
    if a == b or PurePath(a).name == PurePath(b).name:
        return True
    names = ALIASES.get(b, ())
    return a in names or PurePath(a).name in {PurePath(n).name for n in names}


def declared(base_model: str | None, event: object) -> str | None:
    """The base model the expert's profile names (None: none), after `event`."""
    match event:
        case ExpertCreated(profile=profile):
            return profile.base_model or None
        case ExpertUpdated(changes=changes) if changes.base_model is not msgspec.UNSET:
            return changes.base_model or None
    return base_model


@dataclass(frozen=True)
class ExpertBase:
    """The expert's base model: the one its profile names, else the install's."""

    named: str | None  # by the profile
    install: str  # SIMTUNE_BASE_MODEL

    @property
    def model(self) -> str:
        return self.named or self.install

    def required_for(self, version: AdapterRegistered) -> str | None:
        """The base model `version` must have been trained on (None: nothing to check)."""
        if version.provider_model is not None and self.named is None:
            return None
        return self.model

    def check(self, version: AdapterRegistered, action: str = "activated") -> None:
        """Refuse (422, naming both models) a version trained on another base model."""
        required = self.required_for(version)
        if required is None or same_base(version.base_model, required):
            return
        raise DomainError(
            ErrorCode.WRONG_BASE_MODEL,
            f"version {version.adapter_id} was trained on {version.base_model[:200]}, but the"
            f" expert's base model is {required[:200]}: it cannot be {action} on it (train"
            " or import a version for that model, or change the expert's base model)",
        )
