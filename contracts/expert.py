"""The expert context: who the expert is (profile). Answers: contracts.answers."""

from __future__ import annotations

from typing import ClassVar, Literal

import msgspec

from contracts.base import Command, Event, Query, Reply
from contracts.rules import Count, Token, items, line, prose

CONTEXT = "expert"
STREAM = "EXPERT"
AGGREGATE = "expert"

Name = line(120, min_length=1)
ShortText = line(200)
Description = prose(4000)
ListItem = line(500)
MAX_ITEMS = 50


class StyleGuide(msgspec.Struct, frozen=True, kw_only=True):
    tone: ShortText | None = None
    vocabulary: Description | None = None
    sentence_length: ShortText | None = None
    do: items(ListItem, MAX_ITEMS) = msgspec.field(default_factory=list)
    dont: items(ListItem, MAX_ITEMS) = msgspec.field(default_factory=list)


QuoteSources = Literal["auto", "always", "never"]


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    """The editable part of an expert."""

    name: Name
    description: Description = ""
    domain: ShortText = ""
    goals: items(ListItem, MAX_ITEMS) = msgspec.field(default_factory=list)
    influences: items(ListItem, MAX_ITEMS) = msgspec.field(default_factory=list)
    style_guide: StyleGuide = msgspec.field(default_factory=StyleGuide)
    base_model: ShortText | None = None
    banned_topics: items(ListItem, MAX_ITEMS) = msgspec.field(default_factory=list)
    # Lead an answer with what the documents say, quoted and cited, before the model's own
    # words: "auto" when the model is the small bundled one or its answer is poorly
    # supported, "always", or "never".
    quote_sources: QuoteSources = "auto"


class ProfilePatch(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A partial profile: only the fields present change (UNSET means leave as is)."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    domain: ShortText | msgspec.UnsetType = msgspec.UNSET
    goals: items(ListItem, MAX_ITEMS) | msgspec.UnsetType = msgspec.UNSET
    influences: items(ListItem, MAX_ITEMS) | msgspec.UnsetType = msgspec.UNSET
    style_guide: StyleGuide | msgspec.UnsetType = msgspec.UNSET
    base_model: ShortText | None | msgspec.UnsetType = msgspec.UNSET
    banned_topics: items(ListItem, MAX_ITEMS) | msgspec.UnsetType = msgspec.UNSET
    quote_sources: QuoteSources | msgspec.UnsetType = msgspec.UNSET


# ---- events --------------------------------------------------------------------------------


class ExpertCreated(Event, frozen=True, tag="expert.ExpertCreated"):
    personal: ClassVar[tuple[str, ...]] = ("profile",)
    expert_id: Token
    profile: Profile


class ExpertUpdated(Event, frozen=True, tag="expert.ExpertUpdated"):
    personal: ClassVar[tuple[str, ...]] = ("changes",)
    expert_id: Token
    changes: ProfilePatch


class ExpertDeleted(Event, frozen=True, tag="expert.ExpertDeleted"):
    expert_id: Token


ExpertEvent = ExpertCreated | ExpertUpdated | ExpertDeleted


# ---- commands ------------------------------------------------------------------------------


class CreateExpert(Command, frozen=True, tag="expert.CreateExpert"):
    subject = "cmd.expert.create"

    profile: Profile
    expert_id: Token | None = None


class UpdateExpert(Command, frozen=True, tag="expert.UpdateExpert"):
    subject = "cmd.expert.update"

    expert_id: Token
    changes: ProfilePatch
    expected_version: Count | None = None


class DeleteExpert(Command, frozen=True, tag="expert.DeleteExpert"):
    subject = "cmd.expert.delete"

    expert_id: Token


# ---- queries -------------------------------------------------------------------------------


class GetExpert(Query, frozen=True, tag="expert.GetExpert"):
    subject = "qry.expert.get"
    reply = "ExpertView"

    expert_id: Token


class ListExperts(Query, frozen=True, tag="expert.ListExperts"):
    subject = "qry.expert.list"
    reply = "ExpertList"


class ExpertView(Reply, frozen=True, kw_only=True):
    id: str
    name: str
    description: str
    domain: str
    goals: list[str]
    influences: list[str]
    style_guide: StyleGuide
    base_model: str | None
    banned_topics: list[str]
    version: int
    created_at: str
    updated_at: str
    quote_sources: str = "auto"


class ExpertList(Reply, frozen=True, kw_only=True):
    experts: list[ExpertView]
