"""The commands and queries the community service serves: the local templates' (a person's
own) and the registry role's (`registry_*`), answered by the same service."""

from __future__ import annotations

from contracts.base import Command, Query
from contracts.community.values import (
    Actor,
    AuthorName,
    FacetText,
    ModerationAction,
    ModerationReason,
    Page,
    PublicKeyText,
    RegistryKey,
    ReportReason,
    ReviewText,
    SearchText,
    Semver,
    Signature,
    Sort,
    Stars,
    TemplateText,
)
from contracts.rules import Sha256, Token

# ---- local templates: commands ---------------------------------------------------------


class CreateTemplate(Command, frozen=True, kw_only=True, tag="community.CreateTemplate"):
    """A new template; the reply's id is its template id. Its front matter must parse."""

    subject = "cmd.community.create"

    content: TemplateText


class EditTemplate(Command, frozen=True, kw_only=True, tag="community.EditTemplate"):
    """A new immutable version: the front matter's version must be greater than the latest,
    which must still be `expected_version` (409 otherwise)."""

    subject = "cmd.community.edit"

    template_id: Token
    content: TemplateText
    expected_version: Semver


class DeleteTemplate(Command, frozen=True, kw_only=True, tag="community.DeleteTemplate"):
    subject = "cmd.community.delete"

    template_id: Token


class ForkTemplate(Command, frozen=True, kw_only=True, tag="community.ForkTemplate"):
    """A new local template copied from one of the person's own (`template_id`) or from the
    registry (`registry_id`, at `version` or its latest); exactly one of the two."""

    subject = "cmd.community.fork"

    template_id: Token | None = None
    registry_id: Token | None = None
    version: Semver | None = None


class ApplyTemplate(Command, frozen=True, kw_only=True, tag="community.ApplyTemplate"):
    """Shape the expert's answers with a template (at `version`, or always its latest);
    `template_id` None removes the template the expert had."""

    subject = "cmd.community.apply"

    expert_id: Token
    template_id: Token | None = None
    version: Semver | None = None


class PublishTemplate(Command, frozen=True, kw_only=True, tag="community.PublishTemplate"):
    """Publish the template's latest version to the registry (TEMPLATE_REGISTRY_URL, or the
    install's own), signed with the person's key, after checking it here: front matter,
    content, and no personal data (each finding named by line and pattern). A template
    published before is published again as a new version. Replies `Published`."""

    subject = "cmd.community.publish"
    reply = "Published"

    template_id: Token
    author: AuthorName = ""  # the name shown as its author; "" publishes anonymously
    registry_key: RegistryKey = ""


class ImportTemplate(Command, frozen=True, kw_only=True, tag="community.ImportTemplate"):
    """Copy a registry template here (its `version`, or the latest), verifying its signature;
    importing it again at a newer version updates the copy. The reply's id is the local
    template id."""

    subject = "cmd.community.import"

    registry_id: Token
    version: Semver | None = None
    registry_key: RegistryKey = ""


# ---- what people say of a registry template: the registry's commands, and the same said
# through the local role (which adds the API key it sends them to the registry with) -------


class RegistryRate(Command, frozen=True, kw_only=True, tag="community.RegistryRate"):
    """1 to 5 stars, one rating per person (a later one replaces it), from people who
    imported the template."""

    subject = "cmd.community.registry_rate"

    registry_id: Token
    rating: Stars


class RegistryReview(Command, frozen=True, kw_only=True, tag="community.RegistryReview"):
    """A rating with a comment of at most 500 characters, one per person (a later one
    replaces both), from people who imported the template."""

    subject = "cmd.community.registry_review"

    registry_id: Token
    rating: Stars
    comment: ReviewText


class RegistryReport(Command, frozen=True, kw_only=True, tag="community.RegistryReport"):
    """Opens a moderation case; the reply's id is the case id."""

    subject = "cmd.community.registry_report"

    registry_id: Token
    reason: ReportReason


class RateTemplate(RegistryRate, frozen=True, kw_only=True, tag="community.RateTemplate"):
    """A `RegistryRate` sent to the registry (TEMPLATE_REGISTRY_URL or the own one) with an
    API key of its instance ("" uses the account's or TEMPLATE_REGISTRY_API_KEY)."""

    subject = "cmd.community.rate"

    registry_key: RegistryKey = ""


class ReviewTemplate(RegistryReview, frozen=True, kw_only=True, tag="community.ReviewTemplate"):
    """A `RegistryReview` sent to the registry with an API key of its instance."""

    subject = "cmd.community.review"

    registry_key: RegistryKey = ""


class ReportTemplate(RegistryReport, frozen=True, kw_only=True, tag="community.ReportTemplate"):
    """A `RegistryReport` sent to the registry's moderators with an API key of its instance;
    the reply's id is the case."""

    subject = "cmd.community.report"

    registry_key: RegistryKey = ""


# ---- local templates: queries ------------------------------------------------------------


class ListTemplates(Query, frozen=True, kw_only=True, tag="community.ListTemplates"):
    """The person's templates (written, forked and imported), newest change first."""

    subject = "qry.community.list"
    reply = "TemplateList"


class GetTemplate(Query, frozen=True, kw_only=True, tag="community.GetTemplate"):
    """One template at `version` (or its latest), with its history and warnings."""

    subject = "qry.community.get"
    reply = "TemplateView"

    template_id: Token
    version: Semver | None = None


class TemplateSearch(Query, frozen=True, kw_only=True, tag=False):
    """A search of the published templates (FR-CT-11): words (`q`, full text over name,
    description, domain, methodology, keywords and author) and exact filters on domain,
    methodology and author (each "" for any, compared without regard to case), in an order,
    20 a page."""

    reply = "Listing"

    q: SearchText = ""
    domain: FacetText = ""
    methodology: FacetText = ""
    author: FacetText = ""
    sort: Sort = "popular"
    page: Page = 1


class CommunitySearch(TemplateSearch, frozen=True, kw_only=True, tag="community.CommunitySearch"):
    """Search the registry (TEMPLATE_REGISTRY_URL or the own one); when it cannot be reached,
    the listings cached here, with `offline` set."""

    subject = "qry.community.search"


class GetCommunityTemplate(Query, frozen=True, kw_only=True, tag="community.GetCommunityTemplate"):
    """A registry template as the hub shows it before an import: its content, versions,
    reviews, the unusual patterns it holds, and the imported copy's content for the diff."""

    subject = "qry.community.show"
    reply = "CommunityTemplateView"

    registry_id: Token
    version: Semver | None = None


class GetAppliedTemplate(Query, frozen=True, kw_only=True, tag="community.GetAppliedTemplate"):
    """The template the expert answers with (what its system prompt includes): `template_id`
    None in the reply when it has none."""

    subject = "qry.community.applied"
    reply = "AppliedTemplate"

    expert_id: Token


# ---- the registry role: commands (tenant: the caller's, recorded as publisher or by) -------


class SignedPublication(Command, frozen=True, kw_only=True, tag=False):
    """A template as its publisher signs it: the signature must verify over
    (registry_id, version, sha256(content)) with `public_key`, the version must be the front
    matter's, and the content must pass the checks. Replies `Published`."""

    reply = "Published"

    registry_id: Token
    content: TemplateText
    version: Semver
    sha256: Sha256
    signature: Signature
    public_key: PublicKeyText
    author: AuthorName = ""


class RegistryPublish(
    SignedPublication, frozen=True, kw_only=True, tag="community.RegistryPublish"
):
    """Publish a new template as `registry_id`."""

    subject = "cmd.community.registry_publish"


class RegistryPublishVersion(
    SignedPublication, frozen=True, kw_only=True, tag="community.RegistryPublishVersion"
):
    """A newer version of a template its publisher published before, signed by the same key."""

    subject = "cmd.community.registry_publish_version"


class RegistryUnpublish(Command, frozen=True, kw_only=True, tag="community.RegistryUnpublish"):
    """Its publisher takes it out of search and of new imports."""

    subject = "cmd.community.registry_unpublish"

    registry_id: Token


class RegistryDownload(Command, frozen=True, kw_only=True, tag="community.RegistryDownload"):
    """Fetch a version (or the latest) to import, counted as a download."""

    subject = "cmd.community.registry_download"
    reply = "PublishedTemplate"

    registry_id: Token
    version: Semver | None = None


class RegistryModerate(Command, frozen=True, kw_only=True, tag="community.RegistryModerate"):
    """The registry owner's decision: hide, restore, or dismiss a report, with a reason."""

    subject = "cmd.community.registry_moderate"

    registry_id: Token
    case_id: Token | None = None  # dismiss needs one; hide and restore may name none
    action: ModerationAction
    reason: ModerationReason = ""
    by: Actor = ""


# ---- the registry role: queries -----------------------------------------------------------


class RegistrySearch(TemplateSearch, frozen=True, kw_only=True, tag="community.RegistrySearch"):
    """Full-text search of the published templates (hidden and unpublished ones left out)."""

    subject = "qry.community.registry_search"


class RegistryGet(Query, frozen=True, kw_only=True, tag="community.RegistryGet"):
    subject = "qry.community.registry_get"
    reply = "PublishedTemplate"

    registry_id: Token
    version: Semver | None = None


class RegistryVersions(Query, frozen=True, kw_only=True, tag="community.RegistryVersions"):
    subject = "qry.community.registry_versions"
    reply = "PublishedVersions"

    registry_id: Token


class RegistryModerationQueue(
    Query, frozen=True, kw_only=True, tag="community.RegistryModerationQueue"
):
    """The registry owner's cases, open ones first (`open_only` leaves out decided ones)."""

    subject = "qry.community.registry_moderation"
    reply = "ModerationQueue"

    open_only: bool = False


__all__ = [
    "ApplyTemplate",
    "CommunitySearch",
    "CreateTemplate",
    "DeleteTemplate",
    "EditTemplate",
    "ForkTemplate",
    "GetAppliedTemplate",
    "GetCommunityTemplate",
    "GetTemplate",
    "ImportTemplate",
    "ListTemplates",
    "PublishTemplate",
    "RateTemplate",
    "RegistryDownload",
    "RegistryGet",
    "RegistryModerate",
    "RegistryModerationQueue",
    "RegistryPublish",
    "RegistryPublishVersion",
    "RegistryRate",
    "RegistryReport",
    "RegistryReview",
    "RegistrySearch",
    "RegistryUnpublish",
    "RegistryVersions",
    "ReportTemplate",
    "ReviewTemplate",
    "SignedPublication",
    "TemplateSearch",
]
