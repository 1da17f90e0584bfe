"""A registry template, pure (aggregate `published`, keyed by the registry id, under the
registry tenant): its versions, who may change it, who imported it, their ratings and
reviews, and its moderation cases.

What a decision needs from outside — the signature verified, the content checked, the
front matter parsed — is done by the caller before it decides (`services.community.
registry`); this decides who may do what: only the publisher (the same tenant, the same key)
publishes new versions or unpublishes; only people who imported a template rate or review
it, once each (a later one replaces theirs); a report opens a case the registry's owner
decides, and a hidden template leaves search with its reason recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from contracts.base import DomainError, ErrorCode
from contracts.community import (
    FrontMatter,
    ReportDismissed,
    TemplateDownloaded,
    TemplateHidden,
    TemplatePublished,
    TemplateRated,
    TemplateReported,
    TemplateRestored,
    TemplateReviewed,
    TemplateUnpublished,
    TemplateVersionPublished,
)
from services.community.checks import semver

# Who asks without a key of the registry's instance: the gateway's tenant of a request nobody
# signed in for ("nobody"), or a caller that says so.
ANONYMOUS = frozenset({"nobody", "anonymous"})


@dataclass(frozen=True)
class PublishedVersion:
    version: str
    sha256: str
    content: str
    front_matter: FrontMatter
    signature: str
    public_key: str


@dataclass(frozen=True)
class Case:
    by: str
    reason: str
    state: str = "open"  # open | hidden | restored | dismissed


@dataclass(frozen=True)
class Published:
    versions: tuple[PublishedVersion, ...] = ()
    publisher: str = ""
    public_key: str = ""
    author: str = ""
    unpublished: bool = False
    hidden: bool = False
    hidden_reason: str = ""
    downloads: int = 0
    downloaders: frozenset[str] = frozenset()
    ratings: dict[str, int] = field(default_factory=dict)
    reviews: dict[str, str] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.versions)

    @property
    def latest(self) -> PublishedVersion:
        return self.versions[-1]

    @property
    def available(self) -> bool:
        """Listed and importable: published, not unpublished, not hidden."""
        return self.exists and not self.unpublished and not self.hidden

    def at(self, version: str | None) -> PublishedVersion | None:
        if not self.versions:
            return None
        if version is None:
            return self.latest
        return next((v for v in self.versions if v.version == version), None)


INITIAL = Published()


def evolve(state: Published, event: object) -> Published:
    match event:
        case TemplatePublished() as ev:
            return Published(
                versions=(_version(ev),), publisher=ev.publisher, public_key=ev.public_key,
                author=ev.author,
            )  # fmt: skip
        case TemplateVersionPublished() as ev:
            return replace(
                state, versions=(*state.versions, _version(ev)), author=ev.author,
                unpublished=False,
            )  # fmt: skip
        case TemplateUnpublished():
            return replace(state, unpublished=True)
        case TemplateDownloaded() as ev:
            return replace(
                state, downloads=state.downloads + 1, downloaders=state.downloaders | {ev.by}
            )
        case TemplateRated() as ev:
            return replace(state, ratings={**state.ratings, ev.by: ev.stars})
        case TemplateReviewed() as ev:
            return replace(state, reviews={**state.reviews, ev.by: ev.text})
        case TemplateReported() as ev:
            return replace(state, cases={**state.cases, ev.case_id: Case(ev.by, ev.reason)})
        case TemplateHidden() as ev:
            return replace(
                state, hidden=True, hidden_reason=ev.reason,
                cases=_closed(state.cases, ev.case_id, "hidden"),
            )  # fmt: skip
        case TemplateRestored() as ev:
            return replace(
                state, hidden=False, hidden_reason="",
                cases=_closed(state.cases, ev.case_id, "restored"),
            )  # fmt: skip
        case ReportDismissed() as ev:
            return replace(state, cases=_closed(state.cases, ev.case_id, "dismissed"))
    return state


def _version(ev: TemplatePublished | TemplateVersionPublished) -> PublishedVersion:
    return PublishedVersion(
        version=ev.version, sha256=ev.sha256, content=ev.content, front_matter=ev.front_matter,
        signature=ev.signature, public_key=ev.public_key,
    )  # fmt: skip


def _closed(cases: dict[str, Case], case_id: str | None, outcome: str) -> dict[str, Case]:
    if case_id is None or case_id not in cases:
        return cases
    return {**cases, case_id: replace(cases[case_id], state=outcome)}


# ---- decisions -------------------------------------------------------------------------------


def found(state: Published, registry_id: str) -> Published:
    if not state.exists:
        raise DomainError(ErrorCode.NOT_FOUND, f"template {registry_id} was not found")
    return state


def available(state: Published, registry_id: str) -> Published:
    """A template people may import, rate, review: published and neither unpublished nor
    hidden (copies imported before stay as they are)."""
    found(state, registry_id)
    if state.unpublished:
        raise DomainError(
            ErrorCode.NOT_FOUND, f"template {registry_id} was unpublished by its publisher"
        )
    if state.hidden:
        raise DomainError(
            ErrorCode.NOT_FOUND,
            f"template {registry_id} was hidden by the registry's moderators: {state.hidden_reason}",
        )
    return state


def decide_publish(
    state: Published, *, registry_id: str, publisher: str, version: str, sha256: str,
    content: str, front_matter: FrontMatter, signature: str, public_key: str, author: str,
) -> TemplatePublished:  # fmt: skip
    """A new template (its content, signature and front matter checked by the caller)."""
    if state.exists:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"template {registry_id} is published already: publish a new version of it",
        )
    return TemplatePublished(
        registry_id=registry_id, version=version, sha256=sha256, content=content,
        front_matter=front_matter, signature=signature, public_key=public_key, author=author,
        publisher=publisher,
    )  # fmt: skip


def _publisher(state: Published, registry_id: str, tenant: str, what: str) -> None:
    if state.publisher != tenant:
        raise DomainError(
            ErrorCode.CONFLICT, f"only the publisher of template {registry_id} can {what}"
        )


def decide_publish_version(
    state: Published, *, registry_id: str, publisher: str, version: str, sha256: str,
    content: str, front_matter: FrontMatter, signature: str, public_key: str, author: str,
) -> TemplateVersionPublished:  # fmt: skip
    """A newer version, from the publisher, signed by the key the template was first signed
    with (a template whose key changed could be anyone's), its version greater than the
    latest. An unpublished template is published again by its next version."""
    found(state, registry_id)
    _publisher(state, registry_id, publisher, "publish new versions of it")
    if public_key != state.public_key:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"a new version of template {registry_id} must be signed with the key its first"
            " version was signed with",
        )
    if state.hidden:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"template {registry_id} was hidden by the registry's moderators"
            f" ({state.hidden_reason}): ask them to restore it first",
        )
    latest = state.latest.version
    if not semver.greater(version, latest):
        raise DomainError(
            ErrorCode.CONFLICT,
            f"version {version} must be greater than {latest}, the latest published",
        )
    return TemplateVersionPublished(
        registry_id=registry_id, version=version, previous_version=latest, sha256=sha256,
        content=content, front_matter=front_matter, signature=signature,
        public_key=public_key, author=author, publisher=publisher,
    )  # fmt: skip


def decide_unpublish(state: Published, registry_id: str, tenant: str) -> TemplateUnpublished | None:
    found(state, registry_id)
    _publisher(state, registry_id, tenant, "unpublish it")
    if state.unpublished:
        return None
    return TemplateUnpublished(registry_id=registry_id, by=tenant)


def decide_download(
    state: Published, registry_id: str, version: str | None, by: str
) -> tuple[PublishedVersion, TemplateDownloaded | None]:
    """The version to hand out, and the download to count: one per person (each anonymous
    download counts, since nobody can tell them apart)."""
    available(state, registry_id)
    chosen = state.at(version)
    if chosen is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"template {registry_id} has no version {version}")
    if by not in ANONYMOUS and by in state.downloaders:
        return chosen, None
    return chosen, TemplateDownloaded(registry_id=registry_id, version=chosen.version, by=by)


def _imported(state: Published, registry_id: str, by: str, what: str) -> None:
    available(state, registry_id)
    if by in ANONYMOUS or by not in state.downloaders:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"only people who imported template {registry_id} can {what} it: import it first",
        )


def decide_rate(state: Published, registry_id: str, by: str, stars: int) -> TemplateRated | None:
    _imported(state, registry_id, by, "rate")
    previous = state.ratings.get(by)
    if previous == stars:
        return None
    return TemplateRated(registry_id=registry_id, by=by, stars=stars, previous=previous)


def decide_review(
    state: Published, registry_id: str, by: str, text: str
) -> TemplateReviewed | None:
    _imported(state, registry_id, by, "review")
    if state.reviews.get(by) == text:
        return None
    return TemplateReviewed(registry_id=registry_id, by=by, text=text)


def decide_report(
    state: Published, registry_id: str, by: str, reason: str, case_id: str
) -> TemplateReported:
    """A case for the moderators; one open case per person and template."""
    found(state, registry_id)
    if by in ANONYMOUS:
        raise DomainError(
            ErrorCode.INVALID, "sign in (send an API key of this registry) to report a template"
        )
    if any(c.by == by and c.state == "open" for c in state.cases.values()):
        raise DomainError(
            ErrorCode.CONFLICT,
            f"you reported template {registry_id} already; the moderators have not decided yet",
        )
    if case_id in state.cases:
        raise DomainError(ErrorCode.CONFLICT, f"case {case_id} exists already")
    return TemplateReported(registry_id=registry_id, case_id=case_id, by=by, reason=reason)


def open_case(state: Published, registry_id: str, case_id: str | None) -> None:
    if case_id is None:
        return
    case = state.cases.get(case_id)
    if case is None:
        raise DomainError(
            ErrorCode.NOT_FOUND, f"case {case_id} of template {registry_id} was not found"
        )
    if case.state != "open":
        raise DomainError(ErrorCode.CONFLICT, f"case {case_id} was decided already ({case.state})")


def decide_moderate(
    state: Published, registry_id: str, case_id: str | None, action: str, reason: str, by: str
) -> TemplateHidden | TemplateRestored | ReportDismissed | None:
    """The registry owner's decision on a template (and the case it answers, if any)."""
    found(state, registry_id)
    open_case(state, registry_id, case_id)
    reason = reason.strip()
    match action:
        case "hide":
            if not reason:
                raise DomainError(
                    ErrorCode.INVALID, "say why the template is hidden: the reason is recorded"
                )
            if state.hidden and case_id is None:
                return None
            return TemplateHidden(registry_id=registry_id, case_id=case_id, reason=reason, by=by)
        case "restore":
            if not state.hidden:
                raise DomainError(ErrorCode.CONFLICT, f"template {registry_id} is not hidden")
            return TemplateRestored(registry_id=registry_id, case_id=case_id, reason=reason, by=by)
        case "dismiss":
            if case_id is None:
                raise DomainError(ErrorCode.INVALID, "name the case to dismiss (case_id)")
            return ReportDismissed(registry_id=registry_id, case_id=case_id, reason=reason, by=by)
    raise DomainError(ErrorCode.INVALID, f"{action!r} is not a moderation action")
