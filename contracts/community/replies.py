"""What the community service answers with."""

from __future__ import annotations

import msgspec

from contracts.base import Reply
from contracts.community.values import ForkedFrom, ImportedFrom, PublishedAs


class TemplateWarning(msgspec.Struct, frozen=True, kw_only=True):
    """Something a person should look at before trusting a template: the line it is on, what
    it looks like (`pattern`: "e-mail address", "URL", "hidden Unicode"...) and the text,
    masked where it could be personal."""

    line: int
    pattern: str
    excerpt: str = ""


class TemplateVersion(msgspec.Struct, frozen=True, kw_only=True):
    version: str
    sha256: str
    created_at: str


class TemplateFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a template says about itself (its front matter), flat, beside its id: the same
    names wherever a template is answered, local or on a registry."""

    id: str  # a local template's id, or a registry template's
    name: str
    description: str = ""
    domain: str = ""
    methodology: str = ""
    keywords: list[str] = []
    version: str


class TemplateView(TemplateFacts, Reply, frozen=True, kw_only=True):
    """A local template at one version (the latest unless asked), with its history."""

    content: str
    sha256: str
    latest_version: str
    versions: list[TemplateVersion] = []
    forked_from: ForkedFrom | None = None
    imported_from: ImportedFrom | None = None
    published_as: PublishedAs | None = None
    applied_to: list[str] = []  # expert ids
    warnings: list[TemplateWarning] = []
    created_at: str = ""
    updated_at: str = ""


class TemplateSummary(TemplateFacts, frozen=True, kw_only=True):
    forked_from: ForkedFrom | None = None
    imported_from: ImportedFrom | None = None
    published_as: PublishedAs | None = None
    applied_to: list[str] = []
    update_available: str | None = None  # an imported copy: the registry's newer version
    updated_at: str = ""


class TemplateList(Reply, frozen=True, kw_only=True):
    items: list[TemplateSummary]


class RegistryFacts(TemplateFacts, frozen=True, kw_only=True):
    """A registry template as anyone sees it (FR-CT-13), in the names of the registry's API:
    `avg_rating` over `review_count` ratings (every review carries one; None: not rated
    yet), `download_count` people who imported it, and when it was last `updated_at`."""

    author: str = ""  # "" : anonymous
    published_at: str = ""
    updated_at: str = ""
    download_count: int = 0
    avg_rating: float | None = None
    review_count: int = 0
    score: float = 0.0  # the Bayesian average the "rating" sort orders by
    applications: int = 0  # experts it was applied to (the "used" sort)
    public_key: str = ""  # the publisher's Ed25519 key, base64


class ListingItem(RegistryFacts, frozen=True, kw_only=True):
    """One registry template as a search lists it (`version`: its latest)."""

    imported_version: str | None = None  # the version imported here, if any
    update_available: bool = False  # imported here, and the registry has a newer version


class Listing(Reply, frozen=True, kw_only=True):
    items: list[ListingItem]
    page: int = 1
    pages: int = 0
    total: int = 0
    offline: bool = False  # the registry could not be reached: these are the cached listings
    registry_url: str = ""  # "" : the install's own registry


class ReviewView(msgspec.Struct, frozen=True, kw_only=True):
    comment: str
    rating: int | None = None
    updated_at: str = ""
    mine: bool = False


class PublishedVersion(msgspec.Struct, frozen=True, kw_only=True):
    version: str
    sha256: str
    published_at: str


class PublishedTemplate(RegistryFacts, Reply, frozen=True, kw_only=True):
    """A registry template at one version (`id`: its registry id), with what an importer
    verifies: the content, its sha256, the publisher's signature and public key."""

    content: str
    latest_version: str
    sha256: str
    signature: str
    publisher: str = ""  # the publisher's tenant on the registry's instance
    versions: list[PublishedVersion] = []
    reviews: list[ReviewView] = []
    unpublished: bool = False
    hidden: bool = False
    hidden_reason: str = ""


class PublishedVersions(Reply, frozen=True, kw_only=True):
    registry_id: str
    versions: list[PublishedVersion]


class Published(Reply, frozen=True, kw_only=True):
    """A publication the registry accepted."""

    registry_id: str
    version: str
    sha256: str
    registry_url: str = ""  # "" : the install's own registry
    seq: int = 0  # the local TemplateShared's (PublishTemplate) or the registry event's


class CommunityTemplateView(Reply, frozen=True, kw_only=True):
    """A registry template as the hub shows it: the template, the unusual patterns in it
    (warned about before an import), and the imported copy (for the update's diff)."""

    template: PublishedTemplate
    warnings: list[TemplateWarning] = []
    imported_template_id: str | None = None
    imported_version: str | None = None
    imported_content: str | None = None
    offline: bool = False  # served from the cache: the registry could not be reached
    registry_url: str = ""


class AppliedTemplate(Reply, frozen=True, kw_only=True):
    """What the expert service puts in the system prompt: `template_id` None when none."""

    expert_id: str
    template_id: str | None = None
    version: str | None = None
    name: str = ""
    sha256: str = ""
    content: str = ""


class ModerationCase(msgspec.Struct, frozen=True, kw_only=True):
    case_id: str
    registry_id: str
    name: str
    reason: str  # the reporter's
    state: str  # open | hidden | restored | dismissed
    reported_at: str
    resolution: str = ""  # the moderator's reason
    resolved_at: str | None = None
    resolved_by: str = ""
    template_hidden: bool = False


class ModerationQueue(Reply, frozen=True, kw_only=True):
    cases: list[ModerationCase]


__all__ = [
    "AppliedTemplate",
    "CommunityTemplateView",
    "Listing",
    "ListingItem",
    "ModerationCase",
    "ModerationQueue",
    "Published",
    "PublishedTemplate",
    "PublishedVersion",
    "PublishedVersions",
    "RegistryFacts",
    "ReviewView",
    "TemplateFacts",
    "TemplateList",
    "TemplateSummary",
    "TemplateVersion",
    "TemplateView",
    "TemplateWarning",
]
