"""The registry role: what the install's own registry answers (`cmd.community.registry_*`,
`qry.community.registry_*`), for its own people directly and for anyone else through the
gateway's `/v1/templates` API.

Its templates lie under the registry tenant (`contracts.community.REGISTRY_TENANT`); the
tenant of each message is the caller's (the person a key belongs to, or "anonymous" for a
read without one), recorded as the publisher, the rater, the reporter. Nothing is taken on
trust: a publication's content must match its sha256, its version its front matter, its
signature the publisher's key, and it must pass the same checks as on the publisher's own
machine (no personal data), before anything is decided.
"""

from __future__ import annotations

import hashlib

from contracts.base import Accepted, DomainError, ErrorCode
from contracts.community import (
    REGISTRY_TENANT,
    Listing,
    ModerationQueue,
    Published,
    PublishedTemplate,
    PublishedVersions,
    RegistryDownload,
    RegistryGet,
    RegistryModerate,
    RegistryModerationQueue,
    RegistryPublish,
    RegistryPublishVersion,
    RegistryRate,
    RegistryReport,
    RegistryReview,
    RegistrySearch,
    RegistryUnpublish,
    RegistryVersions,
    SignedPublication,
)
from runtime.rpc import not_found
from runtime.service import Hosted, ServiceHost
from services.community import views
from services.community.aggregates import REGISTRY
from services.community.checking import parsed, refuse_personal_data
from services.community.checks import signing
from services.community.domain import published as domain


class RegistryCommands:
    def __init__(self, host: ServiceHost) -> None:
        self.host = host

    async def publish(self, cmd: RegistryPublish) -> Published:
        return await self._publish(cmd, domain.decide_publish)

    async def publish_version(self, cmd: RegistryPublishVersion) -> Published:
        return await self._publish(cmd, domain.decide_publish_version)

    async def _publish(self, cmd: SignedPublication, decide) -> Published:
        """A first publication or a new version: verified here, then decided on the
        template's state (which refuses a taken id, another key, a version not greater)."""
        checked = _verified(cmd)
        outcome = await REGISTRY.execute(
            self.host.store,
            REGISTRY_TENANT,
            cmd.registry_id,
            lambda s: decide(s, publisher=cmd.tenant, **checked),
        )
        return Published(
            registry_id=cmd.registry_id, version=cmd.version, sha256=cmd.sha256, seq=outcome.seq
        )

    async def unpublish(self, cmd: RegistryUnpublish) -> Accepted:
        return await self._decide(
            cmd.registry_id, lambda s: domain.decide_unpublish(s, cmd.registry_id, cmd.tenant)
        )

    async def download(self, cmd: RegistryDownload) -> PublishedTemplate:
        """The version asked for, to import; a person's first download of it is counted."""
        chosen = None

        def decide(state):
            nonlocal chosen
            chosen, counted = domain.decide_download(
                state, cmd.registry_id, cmd.version, cmd.tenant
            )
            return counted

        outcome = await REGISTRY.execute(
            self.host.store, REGISTRY_TENANT, cmd.registry_id, decide, races=3
        )
        return _template_of(cmd.registry_id, outcome.state, chosen, cmd.tenant)

    async def rate(self, cmd: RegistryRate) -> Accepted:
        return await self._decide(
            cmd.registry_id,
            lambda s: domain.decide_rate(s, cmd.registry_id, cmd.tenant, cmd.rating),
        )

    async def review(self, cmd: RegistryReview) -> Accepted:
        """A review is a rating with a comment: the rating is decided first (it refuses
        whoever did not import the template), then the comment."""
        await self.rate(
            RegistryRate(tenant=cmd.tenant, registry_id=cmd.registry_id, rating=cmd.rating)
        )
        return await self._decide(
            cmd.registry_id,
            lambda s: domain.decide_review(s, cmd.registry_id, cmd.tenant, cmd.comment),
        )

    async def report(self, cmd: RegistryReport) -> Accepted:
        """A case in the moderation queue; the reply's id is the case id."""
        case_id = None

        def decide(state):
            nonlocal case_id
            mine = sum(1 for c in state.cases.values() if c.by == cmd.tenant)
            case_id = _case_id(cmd.registry_id, cmd.tenant, mine)
            return domain.decide_report(state, cmd.registry_id, cmd.tenant, cmd.reason, case_id)

        outcome = await REGISTRY.execute(
            self.host.store, REGISTRY_TENANT, cmd.registry_id, decide, races=3
        )
        return Accepted(id=case_id or "", seq=outcome.seq)

    async def moderate(self, cmd: RegistryModerate) -> Accepted:
        return await self._decide(
            cmd.registry_id,
            lambda s: domain.decide_moderate(
                s, cmd.registry_id, cmd.case_id, cmd.action, cmd.reason, cmd.by
            ),
        )

    async def _decide(self, registry_id: str, decide) -> Accepted:
        outcome = await REGISTRY.execute(self.host.store, REGISTRY_TENANT, registry_id, decide)
        return Accepted(id=registry_id, seq=outcome.seq)


def _verified(cmd: SignedPublication) -> dict:
    """A publication checked as the registry must before it decides: the content is what
    its sha256 says, its front matter names the version, the publisher's key signed exactly
    this id, version and digest, and it holds no personal data."""
    front_matter, sha256 = parsed(cmd.content)
    if sha256 != cmd.sha256:
        raise DomainError(
            ErrorCode.INVALID, "the content does not match its sha256: it was changed on the way"
        )
    if front_matter.version != cmd.version:
        raise DomainError(
            ErrorCode.INVALID,
            f"the front matter says version {front_matter.version}, the publication"
            f" {cmd.version}: they must be the same",
        )
    if not signing.verify(cmd.public_key, cmd.registry_id, cmd.version, sha256, cmd.signature):
        raise DomainError(
            ErrorCode.INVALID,
            f"the signature does not verify: template {cmd.registry_id} version {cmd.version}"
            " was not signed by this key, or was changed after it was signed",
        )
    refuse_personal_data(cmd.content, f"template {cmd.registry_id}")
    return {
        "registry_id": cmd.registry_id, "version": cmd.version, "sha256": sha256,
        "content": cmd.content, "front_matter": front_matter, "signature": cmd.signature,
        "public_key": cmd.public_key, "author": cmd.author,
    }  # fmt: skip


def _case_id(registry_id: str, by: str, n: int) -> str:
    """A case's id: the same for the same report made again (a retried request)."""
    return hashlib.sha256(f"{registry_id}\n{by}\n{n}".encode()).hexdigest()[:16]


def _template_of(registry_id: str, state, chosen, me: str) -> PublishedTemplate:
    """What a download hands out, from the aggregate itself (the view may lag behind it)."""
    ratings = list(state.ratings.values())
    count = len(ratings)
    return PublishedTemplate(
        **views.facts_of(chosen.front_matter),
        id=registry_id, version=chosen.version, latest_version=state.latest.version,
        sha256=chosen.sha256, content=chosen.content, signature=chosen.signature,
        public_key=chosen.public_key, author=state.author, publisher=state.publisher,
        avg_rating=sum(ratings) / count if count else None, review_count=count,
        download_count=state.downloads, unpublished=state.unpublished, hidden=state.hidden,
        hidden_reason=state.hidden_reason,
    )  # fmt: skip


class RegistryQueries(Hosted):
    """Read as the log stands when asked (`now`), whoever wrote last: a template published a
    moment ago by another request, gateway or person is listed and opened at once."""

    async def search(self, q: RegistrySearch) -> Listing:
        async def page(conn) -> Listing:
            items, total, pages = await views.search(conn, q)
            return Listing(items=items, page=q.page, pages=pages, total=total)

        return await self.host.read(q, page, now=True)

    async def get(self, q: RegistryGet) -> PublishedTemplate:
        found = await self.host.read(
            q, lambda conn: views.published(conn, q.registry_id, q.version, q.tenant), now=True
        )
        if found is None:
            what = f"template {q.registry_id}"
            raise not_found(f"{what} version {q.version}" if q.version else what)
        return found

    async def versions(self, q: RegistryVersions) -> PublishedVersions:
        async def listed(conn) -> PublishedVersions | None:
            found = await views.published_versions(conn, q.registry_id)
            return PublishedVersions(registry_id=q.registry_id, versions=found) if found else None

        return await self.host.read(q, listed, missing=f"template {q.registry_id}", now=True)

    async def moderation(self, q: RegistryModerationQueue) -> ModerationQueue:
        return ModerationQueue(
            cases=await self.host.read(q, lambda conn: views.cases(conn, q.open_only), now=True)
        )
