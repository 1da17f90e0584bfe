"""The expert context: who the expert is (profile). Answering comes later."""

from __future__ import annotations

import msgspec

from contracts.base import Command, Event, Query, Reply

CONTEXT = "expert"
STREAM = "EXPERT"
AGGREGATE = "expert"


class StyleGuide(msgspec.Struct, frozen=True, kw_only=True):
    tone: str | None = None
    vocabulary: str | None = None
    sentence_length: str | None = None
    do: list[str] = msgspec.field(default_factory=list)
    dont: list[str] = msgspec.field(default_factory=list)


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    """The editable part of an expert."""

    name: str
    description: str = ""
    domain: str = ""
    goals: list[str] = msgspec.field(default_factory=list)
    influences: list[str] = msgspec.field(default_factory=list)
    style_guide: StyleGuide = msgspec.field(default_factory=StyleGuide)
    base_model: str | None = None


class ProfilePatch(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A partial profile: only the fields present change (UNSET means leave as is)."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    domain: str | msgspec.UnsetType = msgspec.UNSET
    goals: list[str] | msgspec.UnsetType = msgspec.UNSET
    influences: list[str] | msgspec.UnsetType = msgspec.UNSET
    style_guide: StyleGuide | msgspec.UnsetType = msgspec.UNSET
    base_model: str | None | msgspec.UnsetType = msgspec.UNSET


# ---- events --------------------------------------------------------------------------------


class ExpertCreated(Event, frozen=True, tag="expert.ExpertCreated"):
    expert_id: str
    profile: Profile


class ExpertUpdated(Event, frozen=True, tag="expert.ExpertUpdated"):
    expert_id: str
    changes: ProfilePatch


class ExpertDeleted(Event, frozen=True, tag="expert.ExpertDeleted"):
    expert_id: str


ExpertEvent = ExpertCreated | ExpertUpdated | ExpertDeleted


# ---- commands ------------------------------------------------------------------------------


class CreateExpert(Command, frozen=True, tag="expert.CreateExpert"):
    profile: Profile
    expert_id: str | None = None


class UpdateExpert(Command, frozen=True, tag="expert.UpdateExpert"):
    expert_id: str
    changes: ProfilePatch
    expected_version: int | None = None


class DeleteExpert(Command, frozen=True, tag="expert.DeleteExpert"):
    expert_id: str


# ---- queries -------------------------------------------------------------------------------


class GetExpert(Query, frozen=True, tag="expert.GetExpert"):
    expert_id: str


class ListExperts(Query, frozen=True, tag="expert.ListExperts"):
    pass


class ExpertView(Reply, frozen=True, kw_only=True):
    id: str
    name: str
    description: str
    domain: str
    goals: list[str]
    influences: list[str]
    style_guide: StyleGuide
    base_model: str | None
    version: int
    created_at: str
    updated_at: str


class ExpertList(Reply, frozen=True, kw_only=True):
    experts: list[ExpertView]
