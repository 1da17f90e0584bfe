"""A person's template, pure: `evolve` folds its log into `Template`; each `decide_*` turns a
request, already checked (its front matter parsed, its digest taken), into the one event
that records it, or refuses with a sentence a person reads.

Every version is immutable: an edit appends a new one whose semver must be greater than the
latest, so what an expert answered with can always be read back. A copy imported from a
registry is not edited (that would break the signature it was verified by): it is updated by
importing a newer version, or forked into a template of the person's own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from contracts.base import DomainError, ErrorCode
from contracts.community import (
    ForkedFrom,
    FrontMatter,
    ImportedFrom,
    PublishedAs,
    TemplateCreated,
    TemplateDeleted,
    TemplateEdited,
    TemplateForked,
    TemplateImported,
    TemplateShared,
)
from services.community.checks import semver


@dataclass(frozen=True)
class Version:
    version: str
    sha256: str
    content: str
    front_matter: FrontMatter


@dataclass(frozen=True)
class Template:
    versions: tuple[Version, ...] = ()
    deleted: bool = False
    forked_from: ForkedFrom | None = None
    imported_from: ImportedFrom | None = None
    published_as: PublishedAs | None = None

    @property
    def live(self) -> bool:
        return bool(self.versions) and not self.deleted

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    def at(self, version: str | None) -> Version | None:
        """The version asked for (None: the latest), or None when it has no such version."""
        if version is None:
            return self.latest if self.versions else None
        return next((v for v in self.versions if v.version == version), None)


INITIAL = Template()


def evolve(state: Template, event: object) -> Template:
    match event:
        case TemplateCreated() as ev:
            return Template(versions=(_version(ev),))
        case TemplateForked() as ev:
            return Template(versions=(_version(ev),), forked_from=ev.forked_from)
        case TemplateImported() as ev:
            kept = state.versions if state.live else ()  # a copy deleted, imported again: anew
            return Template(
                versions=(*kept, _version(ev)),
                imported_from=ev.imported_from,
                published_as=state.published_as if state.live else None,
            )
        case TemplateEdited() as ev:
            return replace(state, versions=(*state.versions, _version(ev)))
        case TemplateShared() as ev:
            return replace(state, published_as=ev.published_as)
        case TemplateDeleted():
            return replace(state, deleted=True)
    return state


def _version(ev) -> Version:
    return Version(
        version=ev.version, sha256=ev.sha256, content=ev.content, front_matter=ev.front_matter
    )


# ---- decisions -------------------------------------------------------------------------------


def live(state: Template, template_id: str) -> Template:
    """The template, which must exist and not be deleted (else it reads as never made)."""
    if not state.live:
        raise DomainError(ErrorCode.NOT_FOUND, f"template {template_id} was not found")
    return state


def decide_create(
    state: Template, template_id: str, content: str, front_matter: FrontMatter, sha256: str
) -> TemplateCreated:
    if state.versions:
        raise DomainError(ErrorCode.CONFLICT, f"template {template_id} already exists")
    return TemplateCreated(
        template_id=template_id,
        version=front_matter.version,
        sha256=sha256,
        content=content,
        front_matter=front_matter,
    )


def decide_edit(
    state: Template,
    template_id: str,
    content: str,
    front_matter: FrontMatter,
    sha256: str,
    expected_version: str,
) -> TemplateEdited:
    """A new version, made on the latest one the editor saw (`expected_version`)."""
    latest = live(state, template_id).latest
    if state.imported_from is not None:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"template {template_id} is a copy imported from a registry and stays as its"
            " publisher signed it: fork it to make a version of your own",
        )
    if expected_version != latest.version:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"template {template_id} was changed meanwhile: it is at version {latest.version},"
            f" not {expected_version}; reload it and edit again",
        )
    if not semver.greater(front_matter.version, latest.version):
        raise DomainError(
            ErrorCode.INVALID,
            f"version {front_matter.version} must be greater than {latest.version}, the"
            " latest: every edit is a new version (raise `version` in the front matter)",
        )
    return TemplateEdited(
        template_id=template_id,
        version=front_matter.version,
        previous_version=latest.version,
        sha256=sha256,
        content=content,
        front_matter=front_matter,
    )


def decide_fork(
    state: Template, template_id: str, forked_from: ForkedFrom, source: Version
) -> TemplateForked:
    """A new template that starts as a copy of `source` and remembers where it came from."""
    if state.versions:
        raise DomainError(ErrorCode.CONFLICT, f"template {template_id} already exists")
    return TemplateForked(
        template_id=template_id,
        forked_from=forked_from,
        version=source.version,
        sha256=source.sha256,
        content=source.content,
        front_matter=source.front_matter,
    )


def decide_import(
    state: Template,
    template_id: str,
    imported_from: ImportedFrom,
    content: str,
    front_matter: FrontMatter,
    sha256: str,
) -> TemplateImported | None:
    """The first import of a registry template, or an update of the copy to a newer version;
    importing a version the copy already has (or an older one) changes nothing."""
    if state.live:
        if state.imported_from is None:
            raise DomainError(ErrorCode.CONFLICT, f"template {template_id} is not an imported copy")
        assert state.imported_from is not None
        if imported_from.public_key != state.imported_from.public_key:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"version {imported_from.version} of template {imported_from.registry_id} is"
                " signed by a different key than the copy you imported: it may not be from the"
                " same publisher, so it was not imported",
            )
        if not semver.greater(imported_from.version, state.latest.version):
            return None
    return TemplateImported(
        template_id=template_id,
        imported_from=imported_from,
        version=imported_from.version,
        sha256=sha256,
        content=content,
        front_matter=front_matter,
    )


def publishable(state: Template, template_id: str) -> Version:
    """The version a publication sends: the latest, unless that one is published already."""
    latest = live(state, template_id).latest
    if state.imported_from is not None:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"template {template_id} is a copy of someone else's template: fork it to publish"
            " a version of your own",
        )
    if state.published_as is not None and state.published_as.version == latest.version:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"version {latest.version} of template {template_id} is published already: edit"
            " it to publish a new version",
        )
    return latest


def decide_share(state: Template, template_id: str, published_as: PublishedAs) -> TemplateShared:
    live(state, template_id)
    return TemplateShared(template_id=template_id, published_as=published_as)


def decide_delete(state: Template, template_id: str) -> TemplateDeleted:
    live(state, template_id)
    return TemplateDeleted(template_id=template_id)
