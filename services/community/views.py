"""Reading the community read models: a person's templates (with their versions, the
experts they shape and the newer versions their registry has), and the registry's templates
(search, one template at a version, its reviews, the moderation queue)."""

from __future__ import annotations

import math

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.community import (
    PAGE_SIZE,
    ForkedFrom,
    FrontMatter,
    ImportedFrom,
    ListingItem,
    ModerationCase,
    PublishedAs,
    PublishedTemplate,
    PublishedVersion,
    ReviewView,
    TemplateSearch,
    TemplateSummary,
    TemplateVersion,
)
from runtime.db import struct_of
from services.community.checks import semver

# ---- a person's templates ----------------------------------------------------------------

APPLIED_TO = (
    "coalesce((SELECT array_agg(a.expert_id ORDER BY a.expert_id) FROM community.applied a"
    " WHERE a.tenant = t.tenant AND a.template_id = t.template_id), '{}') AS applied_to"
)
# What the front matter says beyond the columns kept of it (name, description, domain).
MORE_FACTS = (
    "coalesce(t.front_matter->>'methodology', '') AS methodology,"
    " coalesce(t.front_matter->'keywords', '[]'::jsonb) AS keywords"
)
TEMPLATES = text(
    f"SELECT t.template_id AS id, t.name, t.description, t.domain, {MORE_FACTS}, t.version,"
    f" t.forked_from, t.imported_from, t.published_as, t.updated_at, {APPLIED_TO}"
    " FROM community.templates t WHERE t.tenant = :t ORDER BY t.updated_at DESC, t.template_id"
)
TEMPLATE = text(
    f"SELECT t.*, t.template_id AS id, {MORE_FACTS}, {APPLIED_TO} FROM community.templates t"
    " WHERE t.tenant = :t AND t.template_id = :id"
)
VERSIONS = text(
    "SELECT version, sha256, created_at FROM community.template_versions"
    " WHERE tenant = :t AND template_id = :id ORDER BY created_at, version"
)
VERSION = text(
    "SELECT version, sha256, content, front_matter, created_at FROM community.template_versions"
    " WHERE tenant = :t AND template_id = :id AND version = :v"
)
# The template an expert answers with: its fixed version, or the template's latest.
APPLIED = text(
    "SELECT a.template_id, coalesce(a.version, t.version) AS version, t.name,"
    " coalesce(v.sha256, t.sha256) AS sha256, coalesce(v.content, t.content) AS content"
    " FROM community.applied a JOIN community.templates t"
    " ON t.tenant = a.tenant AND t.template_id = a.template_id"
    " LEFT JOIN community.template_versions v ON v.tenant = a.tenant"
    " AND v.template_id = a.template_id AND v.version = a.version"
    " WHERE a.tenant = :t AND a.expert_id = :e"
)
IMPORTED = text(
    "SELECT template_id, imported_from->>'registry_id' AS registry_id, version, sha256, content,"
    " front_matter, imported_from, updated_at FROM community.templates"
    " WHERE tenant = :t AND imported_from IS NOT NULL"
    " AND coalesce(imported_from->>'registry_url', '') = :url"
)
# The own registry's latest version of each template imported from it.
OWN_LATEST = text(
    "SELECT registry_id, version FROM community.published"
    " WHERE registry_id = ANY(:ids) AND NOT unpublished AND NOT hidden"
)


def summary_of(row, newer: dict[str, str]) -> TemplateSummary:
    imported = _struct(row.imported_from, ImportedFrom)
    update = None
    if imported is not None:
        latest = newer.get(imported.registry_id)
        if latest is not None and _newer(latest, row.version):
            update = latest
    return struct_of(
        TemplateSummary,
        row,
        forked_from=_struct(row.forked_from, ForkedFrom),
        imported_from=imported,
        published_as=_struct(row.published_as, PublishedAs),
        keywords=list(row.keywords),
        applied_to=list(row.applied_to),
        update_available=update,
    )


def _newer(a: str, b: str) -> bool:
    return semver.is_valid(a) and semver.is_valid(b) and semver.greater(a, b)


def _struct(value, cls):
    return None if value is None else msgspec.convert(value, cls)


async def templates(conn: AsyncConnection, tenant: str):
    return list(await conn.execute(TEMPLATES, {"t": tenant}))


async def template(conn: AsyncConnection, tenant: str, template_id: str):
    return (await conn.execute(TEMPLATE, {"t": tenant, "id": template_id})).first()


async def versions(conn: AsyncConnection, tenant: str, template_id: str) -> list[TemplateVersion]:
    rows = await conn.execute(VERSIONS, {"t": tenant, "id": template_id})
    return [struct_of(TemplateVersion, r) for r in rows]


async def version(conn: AsyncConnection, tenant: str, template_id: str, version: str):
    return (await conn.execute(VERSION, {"t": tenant, "id": template_id, "v": version})).first()


async def applied(conn: AsyncConnection, tenant: str, expert_id: str):
    return (await conn.execute(APPLIED, {"t": tenant, "e": expert_id})).first()


async def imported(conn: AsyncConnection, tenant: str, registry_url: str) -> dict:
    """The tenant's copies imported from `registry_url`, by registry id."""
    rows = await conn.execute(IMPORTED, {"t": tenant, "url": registry_url})
    return {r.registry_id: r for r in rows}


async def own_latest(conn: AsyncConnection, registry_ids: list[str]) -> dict[str, str]:
    if not registry_ids:
        return {}
    rows = await conn.execute(OWN_LATEST, {"ids": registry_ids})
    return {r.registry_id: r.version for r in rows}


def facts_of(front_matter: FrontMatter | dict) -> dict:
    """A version's front matter as the flat fields every reply names it by (its version left
    out: each reply says which version it is)."""
    fm = (
        front_matter
        if isinstance(front_matter, FrontMatter)
        else msgspec.convert(front_matter, FrontMatter)
    )
    return {"name": fm.name, "description": fm.description, "domain": fm.domain,
            "methodology": fm.methodology, "keywords": list(fm.keywords)}  # fmt: skip


# ---- the registry ------------------------------------------------------------------------

# The registry's counts in the names of its API.
RATINGS = (
    "CASE WHEN rating_count > 0 THEN rating_sum::float8 / rating_count END AS avg_rating,"
    " rating_count AS review_count, downloads AS download_count"
)
LISTED = (
    "SELECT registry_id AS id, name, domain, description, methodology, keywords, version,"
    f" {RATINGS}, score, applications, author, public_key, published_at, updated_at,"
    " count(*) OVER () AS total FROM community.published"
    " WHERE NOT hidden AND NOT unpublished"
    " AND (:q = '' OR search @@ websearch_to_tsquery('english', :q)"
    " OR search @@ websearch_to_tsquery('simple', :q))"
    " AND (:domain = '' OR lower(domain) = lower(:domain))"
    " AND (:methodology = '' OR lower(methodology) = lower(:methodology))"
    " AND (:author = '' OR lower(author) = lower(:author))"
)
ORDER = {
    "popular": "downloads DESC, score DESC",
    "rating": "score DESC, rating_count DESC",
    "newest": "updated_at DESC",
    "used": "applications DESC, downloads DESC",
}
RELEVANCE = (
    "ts_rank(search, websearch_to_tsquery('english', :q))"
    " + ts_rank(search, websearch_to_tsquery('simple', :q))"
)
SEARCHES = {
    sort: text(f"{LISTED} ORDER BY {order}, {RELEVANCE} DESC, registry_id LIMIT :n OFFSET :skip")
    for sort, order in ORDER.items()
}
PUBLISHED = text(f"SELECT p.*, {RATINGS} FROM community.published p WHERE registry_id = :r")
PUBLISHED_VERSION = text(
    "SELECT * FROM community.published_versions WHERE registry_id = :r AND version = :v"
)
PUBLISHED_VERSIONS = text(
    "SELECT version, sha256, published_at FROM community.published_versions"
    " WHERE registry_id = :r ORDER BY published_at, version"
)
REVIEWS = text(
    "SELECT v.text AS comment, r.stars AS rating, v.updated_at, v.by = :me AS mine"
    " FROM community.reviews v"
    " LEFT JOIN community.ratings r ON r.registry_id = v.registry_id AND r.by = v.by"
    " WHERE v.registry_id = :r ORDER BY v.updated_at DESC, v.by LIMIT 100"
)
CASES = text(
    "SELECT c.case_id, c.registry_id, coalesce(p.name, '') AS name, c.reason, c.state,"
    " c.reported_at, c.resolution, c.resolved_at, c.resolved_by,"
    " coalesce(p.hidden, false) AS template_hidden FROM community.cases c"
    " LEFT JOIN community.published p ON p.registry_id = c.registry_id"
    " WHERE NOT :open_only OR c.state = 'open'"
    " ORDER BY c.state <> 'open', c.reported_at DESC, c.case_id LIMIT 500"
)


def _filters(q: TemplateSearch) -> dict:
    return {"q": q.q.strip(), "domain": q.domain.strip(), "methodology": q.methodology.strip(),
            "author": q.author.strip()}  # fmt: skip


async def search(conn: AsyncConnection, q: TemplateSearch) -> tuple[list[ListingItem], int, int]:
    """One page of the listed templates that match the words and filters: (items, total,
    pages)."""
    filters = _filters(q)
    found = {**filters, "n": PAGE_SIZE, "skip": (q.page - 1) * PAGE_SIZE}
    rows = list(await conn.execute(SEARCHES[q.sort], found))
    total = rows[0].total if rows else await _total(conn, filters, q.page)
    items = [struct_of(ListingItem, r, keywords=list(r.keywords)) for r in rows]
    return items, total, math.ceil(total / PAGE_SIZE)


async def _total(conn: AsyncConnection, filters: dict, page: int) -> int:
    """How many match, for a page past the last one (which lists nothing)."""
    if page == 1:
        return 0
    found = await conn.execute(text(f"SELECT count(*) FROM ({LISTED}) listed"), filters)
    return found.scalar_one()


async def published(
    conn: AsyncConnection, registry_id: str, version: str | None, me: str
) -> PublishedTemplate | None:
    """A registry template at `version` (its latest if None): that version's content, front
    matter and signature, the template's counts and reviews."""
    row = (await conn.execute(PUBLISHED, {"r": registry_id})).first()
    if row is None:
        return None
    at = (
        await conn.execute(PUBLISHED_VERSION, {"r": registry_id, "v": version or row.version})
    ).first()
    if at is None:
        return None
    reviews = await conn.execute(REVIEWS, {"r": registry_id, "me": me})
    return struct_of(
        PublishedTemplate, row,
        **facts_of(at.front_matter),
        id=registry_id, version=at.version, latest_version=row.version, sha256=at.sha256,
        content=at.content, signature=at.signature, public_key=at.public_key, author=at.author,
        versions=await published_versions(conn, registry_id),
        reviews=[struct_of(ReviewView, r) for r in reviews],
    )  # fmt: skip


async def published_versions(conn: AsyncConnection, registry_id: str) -> list[PublishedVersion]:
    rows = await conn.execute(PUBLISHED_VERSIONS, {"r": registry_id})
    return [struct_of(PublishedVersion, r) for r in rows]


async def cases(conn: AsyncConnection, open_only: bool) -> list[ModerationCase]:
    rows = await conn.execute(CASES, {"open_only": open_only})
    return [struct_of(ModerationCase, r) for r in rows]
