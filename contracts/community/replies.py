"""What the community service answers with."""

from __future__ import annotations

import msgspec

from contracts.base import Reply
from contracts.community.values import ForkedFrom, FrontMatter, ImportedFrom, PublishedAs


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


class TemplateView(Reply, frozen=True, kw_only=True):
    """A local template at one version (the latest unless asked), with its history."""

    id: str
    front_matter: FrontMatter
    content: str
    version: str
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


class TemplateSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    description: str = ""
    domain: str = ""
    version: str
    forked_from: ForkedFrom | None = None
    imported_from: ImportedFrom | None = None
    published_as: PublishedAs | None = None
    applied_to: list[str] = []
    update_available: str | None = None  # an imported copy: the registry's newer version
    updated_at: str = ""


class TemplateList(Reply, frozen=True, kw_only=True):
    items: list[TemplateSummary]


class ListingItem(msgspec.Struct, frozen=True, kw_only=True):
    """One registry template as a search lists it."""

    id: str  # the registry id
    name: str
    domain: str = ""
    description: str = ""
    methodology: str = ""
    keywords: list[str] = []
    version: str
    rating_avg: float | None = None  # None: not rated yet
    rating_count: int = 0
    score: float = 0.0  # the Bayesian average the "rating" sort orders by
    downloads: int = 0
    applications: int = 0
    author: str = ""  # "" : anonymous
    public_key: str = ""  # the publisher's Ed25519 key, base64
    updated_at: str = ""
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
    text: str
    stars: int | None = None
    updated_at: str = ""
    mine: bool = False


class PublishedVersion(msgspec.Struct, frozen=True, kw_only=True):
    version: str
    sha256: str
    published_at: str


class PublishedTemplate(Reply, frozen=True, kw_only=True):
    """A registry template at one version, with what an importer verifies: the content, its
    sha256, the publisher's signature and public key."""

    registry_id: str
    version: str
    latest_version: str
    sha256: str
    content: str
    front_matter: FrontMatter
    signature: str
    public_key: str
    author: str = ""
    publisher: str = ""  # the publisher's tenant on the registry's instance
    published_at: str = ""
    updated_at: str = ""
    rating_avg: float | None = None
    rating_count: int = 0
    score: float = 0.0
    downloads: int = 0
    applications: int = 0
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
    "ReviewView",
    "TemplateList",
    "TemplateSummary",
    "TemplateVersion",
    "TemplateView",
    "TemplateWarning",
]
