"""What the hub keeps of a remote registry, so it still works when the registry cannot be
reached: every listing it was shown and every template it opened, by registry address.

Registry content is public by intent, so the cache is the install's, not a person's (no
`tenant` column); what a person imported lives in their own read model. This is state, not
a read model: nothing of it is on the log, and no rebuild touches it.
"""

from __future__ import annotations

import math
from typing import TypeVar

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
    RegistryFacts,
    TemplateSearch,
)
from runtime import db
from runtime.codec import json_text
from services.community.checks import ranking

T = TypeVar("T")
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
    "popular": lambda i: (i.download_count, i.updated_at),
    "rating": lambda i: (i.score, i.review_count),
    "newest": lambda i: (i.updated_at, i.download_count),
    "used": lambda i: (i.applications, i.download_count),
}
FILTERS = ("domain", "methodology", "author")  # exact, without regard to case


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
                {"url": url, "id": template.id, "template": json_text(template)},
            )
        await self.keep_listing(url, [listing_of(template)])

    async def template(self, url: str, registry_id: str) -> PublishedTemplate | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(ONE_TEMPLATE, {"url": url, "id": registry_id})).first()
        return _kept(row.template, PublishedTemplate) if row else None

    async def latest_versions(self, url: str, registry_ids: list[str]) -> dict[str, str]:
        if not registry_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(LATEST_VERSIONS, {"url": url, "ids": registry_ids})
            return {r.registry_id: r.version for r in rows}

    async def search(self, url: str, q: TemplateSearch, extra: list[ListingItem]) -> Listing:
        """The cached listings (and `extra`: copies imported here) that match, as the
        registry would list them, marked offline. Matching is by words, in any field, and by
        the filters' exact fields."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(ALL_LISTINGS, {"url": url})
            kept = [_kept(r.item, ListingItem) for r in rows]
        items = {i.id: i for i in kept if i is not None}
        for item in extra:
            items.setdefault(item.id, item)
        words = [w for w in q.q.lower().split() if w]
        wanted = {f: getattr(q, f).strip().lower() for f in FILTERS if getattr(q, f).strip()}
        found = [
            i
            for i in items.values()
            if all(w in _haystack(i) for w in words)
            and all(getattr(i, f).lower() == v for f, v in wanted.items())
        ]
        found.sort(key=lambda i: (*SORTS[q.sort](i), i.id), reverse=True)
        total = len(found)
        start = (q.page - 1) * PAGE_SIZE
        return Listing(
            items=found[start : start + PAGE_SIZE],
            page=q.page,
            pages=math.ceil(total / PAGE_SIZE),
            total=total,
            offline=True,
            registry_url=url,
        )


def _kept(value: dict, cls: type[T]) -> T | None:
    """What was cached, or None where it was kept in an older shape (a cache: the next
    visit while online keeps it again)."""
    try:
        return msgspec.convert(value, cls)
    except msgspec.ValidationError:
        return None


def _haystack(item: ListingItem) -> str:
    fields = (item.name, item.description, item.domain, item.methodology, item.author)
    return " ".join((*fields, *item.keywords)).lower()


def listing_of(template: PublishedTemplate, *, imported_version: str | None = None) -> ListingItem:
    """A registry template as a search lists it: the same facts, at its latest version."""
    shared = {name: getattr(template, name) for name in RegistryFacts.__struct_fields__}
    score = ranking.bayesian(
        template.avg_rating or 0.0, template.review_count, RATING_PRIOR_MEAN, RATING_PRIOR_COUNT
    )
    return ListingItem(
        **{**shared, "version": template.latest_version, "score": score},
        imported_version=imported_version,
    )
