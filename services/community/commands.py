"""Command handlers of the local role: a person's templates (create, edit, delete, fork,
apply to an expert) and what they do with a registry (publish, import, rate, review,
report), each checked before it is decided.

Publishing checks the template here, before anything leaves the machine (front matter,
content, no personal data), then signs it with the person's key; importing verifies the
signature and the digest of what the registry handed out before the copy is kept.
"""

from __future__ import annotations

import hashlib
import uuid

from contracts.base import Accepted, DomainError, ErrorCode
from contracts.community import (
    ApplyTemplate,
    CreateTemplate,
    DeleteTemplate,
    EditTemplate,
    ForkedFrom,
    ForkTemplate,
    ImportedFrom,
    ImportTemplate,
    Published,
    PublishedAs,
    PublishedTemplate,
    PublishTemplate,
    RateTemplate,
    RegistryDownload,
    RegistryPublish,
    RegistryPublishVersion,
    RegistryRate,
    RegistryReport,
    RegistryReview,
    ReportTemplate,
    ReviewTemplate,
)
from runtime.experts import require_expert
from runtime.service import ServiceHost
from services.community.aggregates import APPLICATIONS, TEMPLATES
from services.community.cache import RegistryCache
from services.community.checking import parsed, refuse_personal_data
from services.community.checks import signing
from services.community.domain import applied as applied_domain
from services.community.domain import template as template_domain
from services.community.registry_client import Registry
from services.community.signing_keys import SigningKeys

# Fixed for good: every imported copy's local id is derived from it.
IMPORT_NAMESPACE = uuid.UUID("1b0f5a3e-8c4d-4e0a-9f6b-2d7c3e1a5b90")


def new_template_id() -> str:
    return uuid.uuid4().hex[:16]


def imported_id(registry_url: str, registry_id: str) -> str:
    """The local id of a registry template's copy: one copy per registry template, so
    importing it again (a newer version) updates that copy."""
    return uuid.uuid5(IMPORT_NAMESPACE, f"{registry_url}\n{registry_id}").hex[:16]


def registry_id_for(public_key: str, tenant: str, template_id: str) -> str:
    """The id a template is first published as: the same for a retried publication, and no
    one else's (it is made from the publisher's key)."""
    return hashlib.sha256(f"{public_key}\n{tenant}\n{template_id}".encode()).hexdigest()[:24]


def verified(template: PublishedTemplate) -> None:
    """What a registry handed out is what its publisher signed: the content matches its
    digest, and the publisher's key signed exactly this id, version and digest."""
    digest = signing.content_sha256(template.content)
    if digest != template.sha256 or not signing.verify(
        template.public_key, template.id, template.version, digest, template.signature
    ):
        raise DomainError(
            ErrorCode.INVALID,
            f"template {template.id} version {template.version} does not match its"
            " publisher's signature: it was changed after it was signed, so it was not taken",
        )


class TemplateCommands:
    def __init__(
        self, host: ServiceHost, registry: Registry, keys: SigningKeys, cache: RegistryCache
    ) -> None:
        self.host, self.registry, self.keys, self.cache = host, registry, keys, cache

    # ---- a person's own templates -----------------------------------------------------------

    async def create(self, cmd: CreateTemplate) -> Accepted:
        front_matter, sha256 = parsed(cmd.content)
        template_id = new_template_id()
        return await self._decide(
            cmd.tenant,
            template_id,
            lambda s: template_domain.decide_create(
                s, template_id, cmd.content, front_matter, sha256
            ),
        )

    async def edit(self, cmd: EditTemplate) -> Accepted:
        front_matter, sha256 = parsed(cmd.content)
        return await self._decide(
            cmd.tenant,
            cmd.template_id,
            lambda s: template_domain.decide_edit(
                s, cmd.template_id, cmd.content, front_matter, sha256, cmd.expected_version
            ),
        )

    async def delete(self, cmd: DeleteTemplate) -> Accepted:
        return await self._decide(
            cmd.tenant, cmd.template_id, lambda s: template_domain.decide_delete(s, cmd.template_id)
        )

    async def fork(self, cmd: ForkTemplate) -> Accepted:
        """A new template copied from one of the person's own or from the registry."""
        if (cmd.template_id is None) == (cmd.registry_id is None):
            raise DomainError(
                ErrorCode.INVALID, "name what to fork: a template_id or a registry_id, not both"
            )
        if cmd.template_id is not None:
            state, _ = await TEMPLATES.load(self.host.store, cmd.tenant, cmd.template_id)
            source = template_domain.live(state, cmd.template_id).at(cmd.version)
            if source is None:
                raise DomainError(
                    ErrorCode.NOT_FOUND,
                    f"template {cmd.template_id} has no version {cmd.version}",
                )
            origin = ForkedFrom(template_id=cmd.template_id, version=source.version)
        else:
            assert cmd.registry_id is not None
            found = await self._download(cmd.tenant, cmd.registry_id, cmd.version, "")
            front_matter, sha256 = parsed(found.content)
            source = template_domain.Version(
                version=found.version, sha256=sha256, content=found.content,
                front_matter=front_matter,
            )  # fmt: skip
            origin = ForkedFrom(
                registry_id=cmd.registry_id, version=found.version, registry_url=self.registry.url
            )
        template_id = new_template_id()
        return await self._decide(
            cmd.tenant,
            template_id,
            lambda s: template_domain.decide_fork(s, template_id, origin, source),
        )

    async def apply(self, cmd: ApplyTemplate) -> Accepted:
        """Shape the expert's answers with a template (or, with none, stop)."""
        registry_id, registry_url = None, ""
        if cmd.template_id is not None:
            state, _ = await TEMPLATES.load(self.host.store, cmd.tenant, cmd.template_id)
            template_domain.live(state, cmd.template_id)
            if cmd.version is not None and state.at(cmd.version) is None:
                raise DomainError(
                    ErrorCode.NOT_FOUND, f"template {cmd.template_id} has no version {cmd.version}"
                )
            await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
            if state.imported_from is not None:
                registry_id = state.imported_from.registry_id
                registry_url = state.imported_from.registry_url
        outcome = await APPLICATIONS.execute(
            self.host.store,
            cmd.tenant,
            cmd.expert_id,
            lambda s: applied_domain.decide_apply(
                s, cmd.expert_id, cmd.template_id, cmd.version,
                registry_id=registry_id, registry_url=registry_url,
            ),
        )  # fmt: skip
        return Accepted(id=cmd.expert_id, seq=outcome.seq)

    # ---- with a registry ----------------------------------------------------------------------

    async def publish(self, cmd: PublishTemplate) -> Published:
        """Check, sign and publish the template's latest version; then record what it was
        published as. Nothing is sent unless every check passed."""
        state, _ = await TEMPLATES.load(self.host.store, cmd.tenant, cmd.template_id)
        version = template_domain.publishable(state, cmd.template_id)
        parsed(version.content)
        refuse_personal_data(version.content, f"template {cmd.template_id}")
        private, public = await self.keys.of(cmd.tenant)
        before = state.published_as
        again = before is not None and before.registry_url == self.registry.url
        registry_id = (
            before.registry_id if again and before else
            registry_id_for(public, cmd.tenant, cmd.template_id)
        )  # fmt: skip
        fields = dict(
            tenant=cmd.tenant, registry_id=registry_id, content=version.content,
            version=version.version, sha256=version.sha256, public_key=public,
            signature=signing.sign(private, registry_id, version.version, version.sha256),
            author=cmd.author,
        )  # fmt: skip
        key = self._key(cmd.registry_key)
        if again:
            published = await self.registry.publish_version(RegistryPublishVersion(**fields), key)
        else:
            try:
                published = await self.registry.publish(RegistryPublish(**fields), key)
            except DomainError as exc:  # published before, its record lost: a new version
                if exc.code != ErrorCode.CONFLICT:
                    raise
                published = await self.registry.publish_version(
                    RegistryPublishVersion(**fields), key
                )
        shared = PublishedAs(
            registry_id=registry_id, version=version.version, registry_url=self.registry.url
        )
        outcome = await TEMPLATES.execute(
            self.host.store,
            cmd.tenant,
            cmd.template_id,
            lambda s: template_domain.decide_share(s, cmd.template_id, shared),
        )
        return Published(
            registry_id=published.registry_id, version=version.version, sha256=version.sha256,
            registry_url=self.registry.url, seq=outcome.seq,
        )  # fmt: skip

    async def import_template(self, cmd: ImportTemplate) -> Accepted:
        """Copy a registry template here (or update the copy to a newer version), once its
        signature and digest are verified; the reply's id is the local copy's."""
        found = await self._download(cmd.tenant, cmd.registry_id, cmd.version, cmd.registry_key)
        front_matter, sha256 = parsed(found.content)
        if front_matter.version != found.version:
            raise DomainError(
                ErrorCode.INVALID,
                f"template {cmd.registry_id} says version {front_matter.version} in its front"
                f" matter but was handed out as {found.version}, so it was not imported",
            )
        origin = ImportedFrom(
            registry_id=cmd.registry_id, version=found.version, registry_url=self.registry.url,
            signature=found.signature, public_key=found.public_key, author=found.author,
        )  # fmt: skip
        template_id = imported_id(self.registry.url, cmd.registry_id)
        return await self._decide(
            cmd.tenant,
            template_id,
            lambda s: template_domain.decide_import(
                s, template_id, origin, found.content, front_matter, sha256
            ),
        )

    async def rate(self, cmd: RateTemplate) -> Accepted:
        message = RegistryRate(tenant=cmd.tenant, registry_id=cmd.registry_id, rating=cmd.rating)
        return await self.registry.rate(message, self._key(cmd.registry_key))

    async def review(self, cmd: ReviewTemplate) -> Accepted:
        message = RegistryReview(
            tenant=cmd.tenant, registry_id=cmd.registry_id, rating=cmd.rating, comment=cmd.comment
        )
        return await self.registry.review(message, self._key(cmd.registry_key))

    async def report(self, cmd: ReportTemplate) -> Accepted:
        message = RegistryReport(tenant=cmd.tenant, registry_id=cmd.registry_id, reason=cmd.reason)
        return await self.registry.report(message, self._key(cmd.registry_key))

    # ---- helpers --------------------------------------------------------------------------------

    async def _download(
        self, tenant: str, registry_id: str, version: str | None, key: str
    ) -> PublishedTemplate:
        message = RegistryDownload(tenant=tenant, registry_id=registry_id, version=version)
        found = await self.registry.download(message, self._key(key))
        if found.id != registry_id:
            raise DomainError(
                ErrorCode.BACKEND, f"the registry answered with another template than {registry_id}"
            )
        verified(found)
        if self.registry.url:  # a remote registry's template: kept for when it is away
            await self.cache.keep_template(self.registry.url, found)
        return found

    def _key(self, given: str) -> str:
        return given or (self.host.settings.template_registry_api_key or "")

    async def _decide(self, tenant: str, template_id: str, decide) -> Accepted:
        outcome = await TEMPLATES.execute(self.host.store, tenant, template_id, decide)
        return Accepted(id=template_id, seq=outcome.seq)
