"""What the hub keeps of a remote registry, so it still works when the registry cannot be
reached: every listing it was shown and every template it opened, by registry address.

Registry content is public by intent, so the cache is the install's, not a person's (no
`tenant` column); what a person imported lives in their own read model. This is state, not
a read model: nothing of it is on the log, and no rebuild touches it.
"""

from __future__ import annotations

import math

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.community import (
    CONTEXT,
    PAGE_SIZE,
    RATING_PRIOR_COUNT,
    RATING_PRIOR_MEAN,
    Listing,
    ListingItem,
    PublishedTemplate,
)
from runtime import db
from runtime.codec import json_text
from services.community.checks import ranking

LISTINGS = f"{CONTEXT}.cached_listings"
TEMPLATES = f"{CONTEXT}.cached_templates"
DDL = (
    f"CREATE TABLE IF NOT EXISTS {LISTINGS} ("
    " registry_url text NOT NULL, registry_id text NOT NULL, item jsonb NOT NULL,"
    " fetched_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (registry_url, registry_id))",
    f"CREATE TABLE IF NOT EXISTS {TEMPLATES} ("
    " registry_url text NOT NULL, registry_id text NOT NULL, template jsonb NOT NULL,"
    " fetched_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (registry_url, registry_id))",
)
PUT_LISTING = text(
    f"INSERT INTO {LISTINGS} (registry_url, registry_id, item) VALUES (:url, :id,"
    " CAST(:item AS jsonb)) ON CONFLICT (registry_url, registry_id) DO UPDATE"
    " SET item = EXCLUDED.item, fetched_at = now()"
)
PUT_TEMPLATE = text(
    f"INSERT INTO {TEMPLATES} (registry_url, registry_id, template) VALUES (:url, :id,"
    " CAST(:template AS jsonb)) ON CONFLICT (registry_url, registry_id) DO UPDATE"
    " SET template = EXCLUDED.template, fetched_at = now()"
)
ALL_LISTINGS = text(f"SELECT item FROM {LISTINGS} WHERE registry_url = :url")
ONE_TEMPLATE = text(
    f"SELECT template FROM {TEMPLATES} WHERE registry_url = :url AND registry_id = :id"
)
LATEST_VERSIONS = text(
    f"SELECT registry_id, item->>'version' AS version FROM {LISTINGS}"
    " WHERE registry_url = :url AND registry_id = ANY(:ids)"
)

SORTS = {
    "popular": lambda i: (i.downloads, i.updated_at),
    "rating": lambda i: (i.score, i.rating_count),
    "newest": lambda i: (i.updated_at, i.downloads),
    "used": lambda i: (i.applications, i.downloads),
}


class RegistryCache:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def ensure(self) -> None:
        await db.ensure_tables(self.engine, CONTEXT, DDL)

    async def keep_listing(self, url: str, items: list[ListingItem]) -> None:
        if not items:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                PUT_LISTING, [{"url": url, "id": i.id, "item": json_text(i)} for i in items]
            )

    async def keep_template(self, url: str, template: PublishedTemplate) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                PUT_TEMPLATE,
                {"url": url, "id": template.registry_id, "template": json_text(template)},
            )
        await self.keep_listing(url, [listing_of(template)])

    async def template(self, url: str, registry_id: str) -> PublishedTemplate | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(ONE_TEMPLATE, {"url": url, "id": registry_id})).first()
        return msgspec.convert(row.template, PublishedTemplate) if row else None

    async def latest_versions(self, url: str, registry_ids: list[str]) -> dict[str, str]:
        if not registry_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(LATEST_VERSIONS, {"url": url, "ids": registry_ids})
            return {r.registry_id: r.version for r in rows}

    async def search(
        self, url: str, q: str, domain: str, sort: str, page: int, extra: list[ListingItem]
    ) -> Listing:
        """The cached listings (and `extra`: copies imported here) that match, as the
        registry would list them, marked offline. Matching is by words, in any field."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(ALL_LISTINGS, {"url": url})
            items = {r.item["id"]: msgspec.convert(r.item, ListingItem) for r in rows}
        for item in extra:
            items.setdefault(item.id, item)
        words = [w for w in q.lower().split() if w]
        found = [
            i
            for i in items.values()
            if all(w in _haystack(i) for w in words)
            and (not domain or i.domain.lower() == domain.lower())
        ]
        found.sort(key=lambda i: (*SORTS[sort](i), i.id), reverse=True)
        total = len(found)
        start = (page - 1) * PAGE_SIZE
        return Listing(
            items=found[start : start + PAGE_SIZE],
            page=page,
            pages=math.ceil(total / PAGE_SIZE),
            total=total,
            offline=True,
            registry_url=url,
        )


def _haystack(item: ListingItem) -> str:
    fields = (item.name, item.description, item.domain, item.methodology, item.author)
    return " ".join((*fields, *item.keywords)).lower()


def listing_of(template: PublishedTemplate, *, imported_version: str | None = None) -> ListingItem:
    """A registry template as a search lists it."""
    fm = template.front_matter
    return ListingItem(
        id=template.registry_id,
        name=fm.name,
        domain=fm.domain,
        description=fm.description,
        methodology=fm.methodology,
        keywords=list(fm.keywords),
        version=template.latest_version,
        rating_avg=template.rating_avg,
        rating_count=template.rating_count,
        score=ranking.bayesian(
            template.rating_avg or 0.0,
            template.rating_count,
            RATING_PRIOR_MEAN,
            RATING_PRIOR_COUNT,
        ),  # fmt: skip
        downloads=template.downloads,
        applications=template.applications,
        author=template.author,
        public_key=template.public_key,
        updated_at=template.updated_at,
        imported_version=imported_version,
    )
