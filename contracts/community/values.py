"""The community context's names and values: bounded texts, the front matter, limits."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from contracts.rules import PROSE_PATTERN, Token, items, line

CONTEXT = "community"
STREAM = "COMMUNITY"
TEMPLATE = "template"  # aggregate: a person's local template, keyed by the template id
APPLIED = "applied"  # aggregate: the template an expert answers with, keyed by the expert id
PUBLISHED = "published"  # aggregate: a registry template, keyed by the registry id
REGISTRY_TENANT = "registry"  # the install's registry role keeps its templates under this tenant
OWN_REGISTRY = ""  # registry_url of the install's own registry (no TEMPLATE_REGISTRY_URL)
PAGE_SIZE = 20  # search results per page
MAX_TEMPLATE_CHARS = 20_000
MAX_REVIEW_CHARS = 500
SIGNATURE_CONTEXT = b"simtune-template-v1\n"
# The Bayesian prior a rating is pulled towards, so one five-star review does not outrank a
# hundred fours: `prior_count` imaginary ratings of `prior_mean`.
RATING_PRIOR_MEAN = 3.0
RATING_PRIOR_COUNT = 5

SEMVER_PATTERN = r"^[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}$"
# Standard base64 (or its url-safe alphabet), padding allowed: Ed25519 keys and signatures.
BASE64_PATTERN = r"^[A-Za-z0-9+/_-]+={0,2}$"

TemplateId = Token
RegistryId = Token
Semver = Annotated[
    str, Meta(pattern=SEMVER_PATTERN, max_length=14, description="A version: MAJOR.MINOR.PATCH.")
]
TemplateText = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_TEMPLATE_CHARS,
        pattern=PROSE_PATTERN,
        description="Markdown with YAML front matter.",
    ),
]
Stars = Annotated[int, Meta(ge=1, le=5, description="1 to 5 stars.")]
ReviewText = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_REVIEW_CHARS,
        pattern=PROSE_PATTERN,
        description="A review's comment: at most 500 characters.",
    ),
]
ReportReason = Annotated[
    str,
    Meta(min_length=1, max_length=500, pattern=PROSE_PATTERN),
]
ModerationReason = line(500)
Signature = Annotated[str, Meta(pattern=BASE64_PATTERN, min_length=1, max_length=200)]
PublicKeyText = Annotated[str, Meta(pattern=BASE64_PATTERN, min_length=1, max_length=200)]
AuthorName = line(80)  # "" publishes anonymously
RegistryUrl = line(500)  # OWN_REGISTRY ("") or the TEMPLATE_REGISTRY_URL it came from
RegistryKey = line(200)  # an API key of the registry's instance; "" uses the setting
SearchText = line(200)
FacetText = line(80)  # a search filter on one field (domain, methodology, author): "" any
Page = Annotated[int, Meta(ge=1, le=10_000)]
Sort = Literal["popular", "rating", "newest", "used"]
ModerationAction = Literal["hide", "restore", "dismiss"]
CaseState = Literal["open", "hidden", "restored", "dismissed"]
Actor = line(200)


class FrontMatter(msgspec.Struct, frozen=True, kw_only=True):
    """What a template says about itself, from its YAML front matter."""

    name: line(80, min_length=1)
    description: line(300) = ""
    domain: line(80) = ""
    methodology: line(80) = ""
    keywords: items(line(40), 12) = msgspec.field(default_factory=list)
    version: Semver


class ForkedFrom(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Where a fork came from: a local template, or a registry template (with the registry's
    address, "" for the own one)."""

    template_id: Token | None = None
    registry_id: Token | None = None
    version: Semver
    registry_url: RegistryUrl = OWN_REGISTRY


class ImportedFrom(msgspec.Struct, frozen=True, kw_only=True):
    """A local copy of a registry template: which one, the version, and what proves it."""

    registry_id: Token
    version: Semver
    registry_url: RegistryUrl = OWN_REGISTRY
    signature: Signature
    public_key: PublicKeyText
    author: AuthorName = ""


class PublishedAs(msgspec.Struct, frozen=True, kw_only=True):
    """The registry template a local one was published as."""

    registry_id: Token
    version: Semver
    registry_url: RegistryUrl = OWN_REGISTRY


def signed_message(registry_id: str, version: str, sha256_hex: str) -> bytes:
    """The bytes a publisher signs and every importer verifies."""
    return SIGNATURE_CONTEXT + f"{registry_id}\n{version}\n{sha256_hex}".encode()


__all__ = [
    "APPLIED",
    "BASE64_PATTERN",
    "CONTEXT",
    "MAX_REVIEW_CHARS",
    "MAX_TEMPLATE_CHARS",
    "OWN_REGISTRY",
    "PAGE_SIZE",
    "PUBLISHED",
    "RATING_PRIOR_COUNT",
    "RATING_PRIOR_MEAN",
    "REGISTRY_TENANT",
    "SEMVER_PATTERN",
    "SIGNATURE_CONTEXT",
    "STREAM",
    "TEMPLATE",
    "Actor",
    "AuthorName",
    "CaseState",
    "FacetText",
    "ForkedFrom",
    "FrontMatter",
    "ImportedFrom",
    "ModerationAction",
    "ModerationReason",
    "Page",
    "PublicKeyText",
    "PublishedAs",
    "RegistryId",
    "RegistryKey",
    "RegistryUrl",
    "ReportReason",
    "ReviewText",
    "SearchText",
    "Semver",
    "Signature",
    "Sort",
    "Stars",
    "TemplateId",
    "TemplateText",
    "signed_message",
]
