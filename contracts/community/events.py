"""What the community service appends to the log: local templates and the registry's."""

from __future__ import annotations

from typing import ClassVar

from contracts.base import Event
from contracts.community.values import (
    Actor,
    AuthorName,
    ForkedFrom,
    FrontMatter,
    ImportedFrom,
    ModerationReason,
    PublicKeyText,
    PublishedAs,
    RegistryUrl,
    ReportReason,
    ReviewText,
    Semver,
    Signature,
    Stars,
    TemplateText,
)
from contracts.rules import Sha256, Token

# ---- local templates (under the person's tenant) ----------------------------------------


class TemplateCreated(Event, frozen=True, kw_only=True, tag="community.TemplateCreated"):
    """A person wrote a template: its first version."""

    personal: ClassVar[tuple[str, ...]] = ("content", "front_matter")

    template_id: Token
    version: Semver
    sha256: Sha256  # of the content, as UTF-8
    content: TemplateText
    front_matter: FrontMatter


class TemplateEdited(Event, frozen=True, kw_only=True, tag="community.TemplateEdited"):
    """A new immutable version of a template; its version is greater than `previous_version`."""

    personal: ClassVar[tuple[str, ...]] = ("content", "front_matter")

    template_id: Token
    version: Semver
    previous_version: Semver
    sha256: Sha256
    content: TemplateText
    front_matter: FrontMatter


class TemplateForked(Event, frozen=True, kw_only=True, tag="community.TemplateForked"):
    """A new template begun as a copy of another, local or from a registry."""

    personal: ClassVar[tuple[str, ...]] = ("content", "front_matter")

    template_id: Token
    forked_from: ForkedFrom
    version: Semver
    sha256: Sha256
    content: TemplateText
    front_matter: FrontMatter


class TemplateImported(Event, frozen=True, kw_only=True, tag="community.TemplateImported"):
    """A registry template copied here, its signature verified: the first import, or an
    update to a newer version (the same local template, a new version)."""

    personal: ClassVar[tuple[str, ...]] = ("content", "front_matter")

    template_id: Token
    imported_from: ImportedFrom
    version: Semver
    sha256: Sha256
    content: TemplateText
    front_matter: FrontMatter


class TemplateShared(Event, frozen=True, kw_only=True, tag="community.TemplateShared"):
    """A version of the template was published to a registry, as `published_as`."""

    template_id: Token
    published_as: PublishedAs


class TemplateDeleted(Event, frozen=True, kw_only=True, tag="community.TemplateDeleted"):
    template_id: Token


class TemplateApplied(Event, frozen=True, kw_only=True, tag="community.TemplateApplied"):
    """The template an expert answers with (aggregate `applied`, keyed by the expert id):
    `template_id` None removes it; `version` None follows the template's latest version.
    `registry_id` names the registry template it is a copy of (counted as a use)."""

    expert_id: Token
    template_id: Token | None = None
    version: Semver | None = None
    previous_template_id: Token | None = None
    registry_id: Token | None = None
    registry_url: RegistryUrl = ""


# ---- the registry (under tenant "registry"; published content is public by intent) -------


class TemplatePublished(Event, frozen=True, kw_only=True, tag="community.TemplatePublished"):
    """A template published to the registry, its signature verified."""

    registry_id: Token
    version: Semver
    sha256: Sha256
    content: TemplateText
    front_matter: FrontMatter
    signature: Signature
    public_key: PublicKeyText
    author: AuthorName = ""
    publisher: Token  # the publisher's tenant on this instance


class TemplateVersionPublished(
    Event, frozen=True, kw_only=True, tag="community.TemplateVersionPublished"
):
    """A newer version of a published template, signed by the same key."""

    registry_id: Token
    version: Semver
    previous_version: Semver
    sha256: Sha256
    content: TemplateText
    front_matter: FrontMatter
    signature: Signature
    public_key: PublicKeyText
    author: AuthorName = ""
    publisher: Token


class TemplateUnpublished(Event, frozen=True, kw_only=True, tag="community.TemplateUnpublished"):
    """Gone from search and from new imports; copies people imported keep working."""

    registry_id: Token
    by: Token


class TemplateDownloaded(Event, frozen=True, kw_only=True, tag="community.TemplateDownloaded"):
    """Someone imported a version (`by`: their tenant here, or "anonymous")."""

    registry_id: Token
    version: Semver
    by: Token


class TemplateRated(Event, frozen=True, kw_only=True, tag="community.TemplateRated"):
    """One rating per person per template: a later one replaces `previous`."""

    registry_id: Token
    by: Token
    stars: Stars
    previous: Stars | None = None


class TemplateReviewed(Event, frozen=True, kw_only=True, tag="community.TemplateReviewed"):
    """One review per person per template: a later one replaces the earlier."""

    registry_id: Token
    by: Token
    text: ReviewText


class TemplateReported(Event, frozen=True, kw_only=True, tag="community.TemplateReported"):
    """A report opens case `case_id` in the registry owner's moderation queue."""

    registry_id: Token
    case_id: Token
    by: Token
    reason: ReportReason


class TemplateHidden(Event, frozen=True, kw_only=True, tag="community.TemplateHidden"):
    """A moderator hid the template from search (closing `case_id`, if any), with a reason."""

    registry_id: Token
    case_id: Token | None = None
    reason: ModerationReason
    by: Actor = ""


class TemplateRestored(Event, frozen=True, kw_only=True, tag="community.TemplateRestored"):
    registry_id: Token
    case_id: Token | None = None
    reason: ModerationReason
    by: Actor = ""


class ReportDismissed(Event, frozen=True, kw_only=True, tag="community.ReportDismissed"):
    registry_id: Token
    case_id: Token
    reason: ModerationReason
    by: Actor = ""


CommunityEvent = (
    TemplateCreated
    | TemplateEdited
    | TemplateForked
    | TemplateImported
    | TemplateShared
    | TemplateDeleted
    | TemplateApplied
    | TemplatePublished
    | TemplateVersionPublished
    | TemplateUnpublished
    | TemplateDownloaded
    | TemplateRated
    | TemplateReviewed
    | TemplateReported
    | TemplateHidden
    | TemplateRestored
    | ReportDismissed
)

__all__ = [
    "CommunityEvent",
    "ReportDismissed",
    "TemplateApplied",
    "TemplateCreated",
    "TemplateDeleted",
    "TemplateDownloaded",
    "TemplateEdited",
    "TemplateForked",
    "TemplateHidden",
    "TemplateImported",
    "TemplatePublished",
    "TemplateRated",
    "TemplateReported",
    "TemplateRestored",
    "TemplateReviewed",
    "TemplateShared",
    "TemplateUnpublished",
    "TemplateVersionPublished",
]
