"""Query handlers of the local role: a person's templates, the one an expert answers with,
and the community hub's view of the registry — live when it can be reached, else the
listings and templates cached here, marked offline.

Opening the hub (a search's first page) also checks each imported copy for a newer version,
so the hub and the template list can offer the update.
"""

from __future__ import annotations

import msgspec

from contracts.base import DomainError, ErrorCode
from contracts.community import (
    AppliedTemplate,
    CommunitySearch,
    CommunityTemplateView,
    GetAppliedTemplate,
    GetCommunityTemplate,
    GetTemplate,
    ImportedFrom,
    Listing,
    ListingItem,
    ListTemplates,
    PublishedTemplate,
    RegistryGet,
    RegistrySearch,
    TemplateList,
    TemplateSearch,
    TemplateView,
)
from runtime.logs import get_logger
from runtime.service import ServiceHost
from services.community import views
from services.community.cache import RegistryCache, listing_of
from services.community.checking import warnings
from services.community.checks import semver
from services.community.registry_client import Registry

log = get_logger(__name__)
UPDATE_CHECKS = 50  # imported copies checked for a newer version each time the hub opens


class TemplateQueries:
    def __init__(self, host: ServiceHost, registry: Registry, cache: RegistryCache) -> None:
        self.host, self.registry, self.cache = host, registry, cache

    # ---- a person's templates ---------------------------------------------------------------

    async def list(self, q: ListTemplates) -> TemplateList:
        rows = await self.host.read(q, lambda conn: views.templates(conn, q.tenant))
        newer = await self._newer_versions(rows)
        return TemplateList(items=[views.summary_of(row, newer) for row in rows])

    async def get(self, q: GetTemplate) -> TemplateView:
        async def read(conn):
            row = await views.template(conn, q.tenant, q.template_id)
            if row is None:
                return None
            at = row
            if q.version is not None and q.version != row.version:
                at = await views.version(conn, q.tenant, q.template_id, q.version)
                if at is None:
                    raise DomainError(
                        ErrorCode.NOT_FOUND,
                        f"template {q.template_id} has no version {q.version}",
                    )
            return row, at, await views.versions(conn, q.tenant, q.template_id)

        row, at, versions = await self.host.read(q, read, missing=f"template {q.template_id}")
        summary = views.summary_of(row, {})
        return TemplateView(
            **views.facts_of(at.front_matter),
            id=q.template_id,
            content=at.content,
            version=at.version,
            sha256=at.sha256,
            latest_version=row.version,
            versions=versions,
            forked_from=summary.forked_from,
            imported_from=summary.imported_from,
            published_as=summary.published_as,
            applied_to=summary.applied_to,
            warnings=warnings(at.content),
            created_at=row.created_at.isoformat(),
            updated_at=row.updated_at.isoformat(),
        )

    async def applied(self, q: GetAppliedTemplate) -> AppliedTemplate:
        """What the expert service puts in the expert's system prompt (none: no template)."""
        row = await self.host.read(q, lambda conn: views.applied(conn, q.tenant, q.expert_id))
        if row is None:
            return AppliedTemplate(expert_id=q.expert_id)
        return AppliedTemplate(
            expert_id=q.expert_id, template_id=row.template_id, version=row.version,
            name=row.name, sha256=row.sha256, content=row.content,
        )  # fmt: skip

    async def _newer_versions(self, rows) -> dict[str, str]:
        """The latest version known of each imported copy's registry template: the own
        registry's read model, and what was last seen of a remote one."""
        by_url: dict[str, list[str]] = {}
        for row in rows:
            if row.imported_from is not None:
                origin = msgspec.convert(row.imported_from, ImportedFrom)
                by_url.setdefault(origin.registry_url, []).append(origin.registry_id)
        newer: dict[str, str] = {}
        for url, ids in by_url.items():
            if url:
                newer.update(await self.cache.latest_versions(url, ids))
            else:
                async with self.host.engine.connect() as conn:
                    newer.update(await views.own_latest(conn, ids))
        return newer

    # ---- the community hub ------------------------------------------------------------------

    async def search(self, q: CommunitySearch) -> Listing:
        url = self.registry.url
        fields = {f: getattr(q, f) for f in TemplateSearch.__struct_fields__}
        asked = RegistrySearch(**{**fields, "after_seq": 0 if url else q.after_seq})
        async with self.host.engine.connect() as conn:
            imported = await views.imported(conn, q.tenant, url)
        try:
            listing = await self.registry.search(asked)
        except DomainError as exc:
            if exc.code != ErrorCode.UNAVAILABLE or not url:
                raise
            log.info("community.registry_offline", registry=url, detail=exc.detail)
            copies = [_copy_listed(row) for row in imported.values()]
            listing = await self.cache.search(url, q, copies)
        else:
            if url:
                await self.cache.keep_listing(url, listing.items)
                if q.page == 1:
                    await self._check_for_updates(q.tenant, imported, listing.items)
        items = [_marked(item, imported.get(item.id)) for item in listing.items]
        return msgspec.structs.replace(listing, items=items, registry_url=url)

    async def _check_for_updates(self, tenant: str, imported: dict, listed) -> None:
        """Ask the remote registry about each imported copy not on this page, so its newer
        version is known (and cached) even when no search lists it."""
        seen = {item.id for item in listed}
        for registry_id in [r for r in imported if r not in seen][:UPDATE_CHECKS]:
            try:
                found = await self.registry.get(RegistryGet(tenant=tenant, registry_id=registry_id))
            except DomainError as exc:
                if exc.code == ErrorCode.UNAVAILABLE:
                    return
                continue  # gone from the registry: the copy stays as it is
            await self.cache.keep_template(self.registry.url, found)

    async def show(self, q: GetCommunityTemplate) -> CommunityTemplateView:
        """A registry template before an import: the warnings it deserves and the imported
        copy beside it (for the update's diff)."""
        url = self.registry.url
        async with self.host.engine.connect() as conn:
            copy = (await views.imported(conn, q.tenant, url)).get(q.registry_id)
        offline = False
        try:
            template = await self.registry.get(
                RegistryGet(
                    tenant=q.tenant, registry_id=q.registry_id, version=q.version,
                    after_seq=0 if url else q.after_seq,
                )
            )  # fmt: skip
        except DomainError as exc:
            if exc.code != ErrorCode.UNAVAILABLE or not url:
                raise
            offline = True
            template = await self.cache.template(url, q.registry_id)
            if template is None and copy is not None:
                template = _copy_template(copy)
            if template is None:
                raise DomainError(
                    ErrorCode.UNAVAILABLE,
                    f"{exc.detail}, and template {q.registry_id} was never opened here",
                ) from exc
        else:
            if url and q.version is None:
                await self.cache.keep_template(url, template)
        return CommunityTemplateView(
            template=template,
            warnings=warnings(template.content),
            imported_template_id=copy.template_id if copy is not None else None,
            imported_version=copy.version if copy is not None else None,
            imported_content=copy.content if copy is not None else None,
            offline=offline,
            registry_url=url,
        )


def _marked(item: ListingItem, copy) -> ListingItem:
    """A listing item with the version imported here, and whether the registry has newer."""
    if copy is None:
        return item
    newer = semver.is_valid(item.version) and semver.greater(item.version, copy.version)
    return msgspec.structs.replace(item, imported_version=copy.version, update_available=newer)


def _copy_template(copy) -> PublishedTemplate:
    """An imported copy as the registry handed it out (what the hub shows offline)."""
    origin = msgspec.convert(copy.imported_from, ImportedFrom)
    return PublishedTemplate(
        **views.facts_of(copy.front_matter),
        id=origin.registry_id, version=copy.version, latest_version=copy.version,
        sha256=copy.sha256, content=copy.content, signature=origin.signature,
        public_key=origin.public_key, author=origin.author, updated_at=copy.updated_at.isoformat(),
    )  # fmt: skip


def _copy_listed(copy) -> ListingItem:
    return listing_of(_copy_template(copy), imported_version=copy.version)
