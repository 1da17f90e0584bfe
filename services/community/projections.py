"""The community read models, rebuilt from the COMMUNITY log.

`community.templates` (a person's own, under their tenant):
- `templates`: one row per live template with its latest version, where it came from
  (forked, imported with the signature it was verified by) and what it was published as.
- `template_versions`: every version of every live template (immutable; what an expert
  answered with can be read back).
- `applied`: per expert, the template (and fixed version, or NULL for the latest) it answers
  with.

`community.registry` (the registry role, under the registry tenant; public by intent):
- `published`: one row per registry template with its latest version and what search sorts
  by: downloads, applications, the ratings' sum and count and their Bayesian average
  (`score`, the formula of `checks.ranking.bayesian` with the registry's prior), and a
  generated `tsvector` over name, keywords, description, domain, methodology and author.
- `published_versions`: every version with its signature and key.
- `ratings`, `reviews`: one per person and template (a later one replaces it).
- `cases`: the moderation queue, with each decision and its reason.

Nothing here reads the clock: every time is the event's, so a rebuild equals the live view.
"""

from __future__ import annotations

from sqlalchemy import text

from contracts.community import (
    OWN_REGISTRY,
    RATING_PRIOR_COUNT,
    RATING_PRIOR_MEAN,
    STREAM,
    ReportDismissed,
    TemplateApplied,
    TemplateCreated,
    TemplateDeleted,
    TemplateDownloaded,
    TemplateEdited,
    TemplateForked,
    TemplateHidden,
    TemplateImported,
    TemplatePublished,
    TemplateRated,
    TemplateReported,
    TemplateRestored,
    TemplateReviewed,
    TemplateShared,
    TemplateUnpublished,
    TemplateVersionPublished,
)
from runtime.codec import json_text
from runtime.eventstore import RecordedEvent
from runtime.projection import Tables, Writes

# ---- a person's templates -------------------------------------------------------------------

TEMPLATES_TABLE = (
    "CREATE TABLE IF NOT EXISTS templates ("
    " tenant text NOT NULL, template_id text NOT NULL, name text NOT NULL,"
    " description text NOT NULL, domain text NOT NULL, version text NOT NULL,"
    " sha256 text NOT NULL, content text NOT NULL, front_matter jsonb NOT NULL,"
    " forked_from jsonb, imported_from jsonb, published_as jsonb,"
    " created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
    " PRIMARY KEY (tenant, template_id))"
)
VERSIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS template_versions ("
    " tenant text NOT NULL, template_id text NOT NULL, version text NOT NULL,"
    " sha256 text NOT NULL, content text NOT NULL, front_matter jsonb NOT NULL,"
    " created_at timestamptz NOT NULL, PRIMARY KEY (tenant, template_id, version))"
)
APPLIED_TABLE = (
    "CREATE TABLE IF NOT EXISTS applied ("
    " tenant text NOT NULL, expert_id text NOT NULL, template_id text NOT NULL, version text,"
    " registry_id text, registry_url text NOT NULL, applied_at timestamptz NOT NULL,"
    " PRIMARY KEY (tenant, expert_id))"
)

# A first version (created, forked, imported) starts the row; an import of a newer version
# updates it (a deleted copy left no row, so importing it again starts anew).
TEMPLATE_STARTED = text(
    "INSERT INTO templates (tenant, template_id, name, description, domain, version, sha256,"
    " content, front_matter, forked_from, imported_from, created_at, updated_at)"
    " VALUES (:t, :id, :name, :description, :domain, :version, :sha, :content,"
    " CAST(:fm AS jsonb), CAST(:forked AS jsonb), CAST(:imported AS jsonb), :at, :at)"
    " ON CONFLICT (tenant, template_id) DO UPDATE SET name = EXCLUDED.name,"
    " description = EXCLUDED.description, domain = EXCLUDED.domain,"
    " version = EXCLUDED.version, sha256 = EXCLUDED.sha256, content = EXCLUDED.content,"
    " front_matter = EXCLUDED.front_matter, imported_from = EXCLUDED.imported_from,"
    " updated_at = EXCLUDED.updated_at"
)
TEMPLATE_VERSION = text(
    "INSERT INTO template_versions (tenant, template_id, version, sha256, content,"
    " front_matter, created_at) VALUES (:t, :id, :version, :sha, :content, CAST(:fm AS jsonb),"
    " :at) ON CONFLICT DO NOTHING"
)
TEMPLATE_EDITED = text(
    "UPDATE templates SET name = :name, description = :description, domain = :domain,"
    " version = :version, sha256 = :sha, content = :content, front_matter = CAST(:fm AS jsonb),"
    " updated_at = :at WHERE tenant = :t AND template_id = :id"
)
TEMPLATE_SHARED = text(
    "UPDATE templates SET published_as = CAST(:published AS jsonb), updated_at = :at"
    " WHERE tenant = :t AND template_id = :id"
)
TEMPLATE_DELETED = text("DELETE FROM templates WHERE tenant = :t AND template_id = :id")
VERSIONS_DELETED = text("DELETE FROM template_versions WHERE tenant = :t AND template_id = :id")
APPLIED_DELETED = text("DELETE FROM applied WHERE tenant = :t AND template_id = :id")
APPLIED = text(
    "INSERT INTO applied (tenant, expert_id, template_id, version, registry_id, registry_url,"
    " applied_at) VALUES (:t, :e, :id, :version, :r, :url, :at)"
    " ON CONFLICT (tenant, expert_id) DO UPDATE SET template_id = EXCLUDED.template_id,"
    " version = EXCLUDED.version, registry_id = EXCLUDED.registry_id,"
    " registry_url = EXCLUDED.registry_url, applied_at = EXCLUDED.applied_at"
)
UNAPPLIED = text("DELETE FROM applied WHERE tenant = :t AND expert_id = :e")


class TemplatesProjection(Tables):
    name = "community.templates"
    streams = (STREAM,)
    announce = True
    table_ddl = (TEMPLATES_TABLE, VERSIONS_TABLE, APPLIED_TABLE)
    index_ddl = (
        "CREATE INDEX IF NOT EXISTS templates_by_update ON templates (tenant, updated_at DESC)",
        "CREATE INDEX IF NOT EXISTS applied_by_template ON applied (tenant, template_id)",
    )

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        match rec.event:
            case TemplateCreated() | TemplateForked() | TemplateImported() as ev:
                forked = getattr(ev, "forked_from", None)
                imported = getattr(ev, "imported_from", None)
                out.add(
                    TEMPLATE_STARTED,
                    {**_version_row(rec, ev), "forked": _json(forked),
                     "imported": _json(imported)},
                )  # fmt: skip
                out.add(TEMPLATE_VERSION, _version_row(rec, ev))
            case TemplateEdited() as ev:
                out.add(TEMPLATE_EDITED, _version_row(rec, ev))
                out.add(TEMPLATE_VERSION, _version_row(rec, ev))
            case TemplateShared() as ev:
                out.add(
                    TEMPLATE_SHARED,
                    {"t": rec.tenant, "id": ev.template_id, "at": rec.at,
                     "published": json_text(ev.published_as)},
                )  # fmt: skip
            case TemplateDeleted() as ev:
                key = {"t": rec.tenant, "id": ev.template_id}
                out.add(TEMPLATE_DELETED, key)
                out.add(VERSIONS_DELETED, key)
                out.add(APPLIED_DELETED, key)
            case TemplateApplied(template_id=None) as ev:
                out.add(UNAPPLIED, {"t": rec.tenant, "e": ev.expert_id})
            case TemplateApplied() as ev:
                out.add(
                    APPLIED,
                    {"t": rec.tenant, "e": ev.expert_id, "id": ev.template_id,
                     "version": ev.version, "r": ev.registry_id, "url": ev.registry_url,
                     "at": rec.at},
                )  # fmt: skip


def _version_row(rec: RecordedEvent, ev) -> dict:
    fm = ev.front_matter
    return {
        "t": rec.tenant, "id": ev.template_id, "name": fm.name, "description": fm.description,
        "domain": fm.domain, "version": ev.version, "sha": ev.sha256, "content": ev.content,
        "fm": json_text(fm), "at": rec.at,
    }  # fmt: skip


def _json(value) -> str | None:
    return None if value is None else json_text(value)


# ---- the registry ------------------------------------------------------------------------------

# The Bayesian average of `checks.ranking.bayesian`, (m·C + Σ) / (C + n), with the prior fixed
# in the contracts; a generated column, so it is always the ratings' and can be indexed.
SCORE = (
    f"(({RATING_PRIOR_MEAN!r} * {RATING_PRIOR_COUNT}) + rating_sum)::float8"
    f" / ({RATING_PRIOR_COUNT} + rating_count)"
)
SEARCH = (
    "setweight(to_tsvector('english', name), 'A')"
    " || setweight(to_tsvector('english', keywords_text), 'B')"
    " || setweight(to_tsvector('english', domain || ' ' || methodology), 'B')"
    " || setweight(to_tsvector('english', description), 'C')"
    " || setweight(to_tsvector('simple', author), 'C')"
)
PUBLISHED_TABLE = (
    "CREATE TABLE IF NOT EXISTS published ("
    " tenant text NOT NULL, registry_id text PRIMARY KEY, publisher text NOT NULL,"
    " public_key text NOT NULL, author text NOT NULL, name text NOT NULL,"
    " description text NOT NULL, domain text NOT NULL, methodology text NOT NULL,"
    " keywords jsonb NOT NULL, keywords_text text NOT NULL, version text NOT NULL,"
    " sha256 text NOT NULL, published_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
    " unpublished boolean NOT NULL DEFAULT false, hidden boolean NOT NULL DEFAULT false,"
    " hidden_reason text NOT NULL DEFAULT '', downloads bigint NOT NULL DEFAULT 0,"
    " applications bigint NOT NULL DEFAULT 0, rating_sum bigint NOT NULL DEFAULT 0,"
    " rating_count bigint NOT NULL DEFAULT 0,"
    f" score float8 GENERATED ALWAYS AS ({SCORE}) STORED,"
    f" search tsvector GENERATED ALWAYS AS ({SEARCH}) STORED)"
)
PUBLISHED_VERSIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS published_versions ("
    " tenant text NOT NULL, registry_id text NOT NULL, version text NOT NULL,"
    " sha256 text NOT NULL, content text NOT NULL, front_matter jsonb NOT NULL,"
    " signature text NOT NULL, public_key text NOT NULL, author text NOT NULL,"
    " published_at timestamptz NOT NULL, PRIMARY KEY (registry_id, version))"
)
RATINGS_TABLE = (
    "CREATE TABLE IF NOT EXISTS ratings ("
    " registry_id text NOT NULL, by text NOT NULL, stars int NOT NULL,"
    " updated_at timestamptz NOT NULL, PRIMARY KEY (registry_id, by))"
)
REVIEWS_TABLE = (
    "CREATE TABLE IF NOT EXISTS reviews ("
    " registry_id text NOT NULL, by text NOT NULL, text text NOT NULL,"
    " updated_at timestamptz NOT NULL, PRIMARY KEY (registry_id, by))"
)
CASES_TABLE = (
    "CREATE TABLE IF NOT EXISTS cases ("
    " case_id text PRIMARY KEY, registry_id text NOT NULL, by text NOT NULL,"
    " reason text NOT NULL, state text NOT NULL, reported_at timestamptz NOT NULL,"
    " resolution text NOT NULL DEFAULT '', resolved_at timestamptz,"
    " resolved_by text NOT NULL DEFAULT '')"
)

PUBLISHED = text(
    "INSERT INTO published (tenant, registry_id, publisher, public_key, author, name,"
    " description, domain, methodology, keywords, keywords_text, version, sha256,"
    " published_at, updated_at) VALUES (:t, :r, :publisher, :key, :author, :name,"
    " :description, :domain, :methodology, CAST(:keywords AS jsonb), :keywords_text,"
    " :version, :sha, :at, :at) ON CONFLICT (registry_id) DO NOTHING"
)
VERSION_PUBLISHED = text(
    "UPDATE published SET author = :author, name = :name, description = :description,"
    " domain = :domain, methodology = :methodology, keywords = CAST(:keywords AS jsonb),"
    " keywords_text = :keywords_text, version = :version, sha256 = :sha, updated_at = :at,"
    " unpublished = false WHERE registry_id = :r"
)
PUBLISHED_VERSION = text(
    "INSERT INTO published_versions (tenant, registry_id, version, sha256, content,"
    " front_matter, signature, public_key, author, published_at) VALUES (:t, :r, :version,"
    " :sha, :content, CAST(:fm AS jsonb), :signature, :key, :author, :at)"
    " ON CONFLICT DO NOTHING"
)
UNPUBLISHED = text("UPDATE published SET unpublished = true WHERE registry_id = :r")
DOWNLOADED = text("UPDATE published SET downloads = downloads + 1 WHERE registry_id = :r")
USED = text("UPDATE published SET applications = applications + 1 WHERE registry_id = :r")
RATED = text(
    "UPDATE published SET rating_sum = rating_sum + :stars - coalesce(CAST(:previous AS int), 0),"
    " rating_count = rating_count + (CASE WHEN CAST(:previous AS int) IS NULL THEN 1 ELSE 0 END)"
    " WHERE registry_id = :r"
)
RATING = text(
    "INSERT INTO ratings (registry_id, by, stars, updated_at) VALUES (:r, :by, :stars, :at)"
    " ON CONFLICT (registry_id, by) DO UPDATE SET stars = EXCLUDED.stars,"
    " updated_at = EXCLUDED.updated_at"
)
REVIEW = text(
    "INSERT INTO reviews (registry_id, by, text, updated_at) VALUES (:r, :by, :text, :at)"
    " ON CONFLICT (registry_id, by) DO UPDATE SET text = EXCLUDED.text,"
    " updated_at = EXCLUDED.updated_at"
)
REPORTED = text(
    "INSERT INTO cases (case_id, registry_id, by, reason, state, reported_at)"
    " VALUES (:c, :r, :by, :reason, 'open', :at) ON CONFLICT DO NOTHING"
)
HIDDEN = text("UPDATE published SET hidden = true, hidden_reason = :reason WHERE registry_id = :r")
RESTORED = text("UPDATE published SET hidden = false, hidden_reason = '' WHERE registry_id = :r")
CASE_DECIDED = text(
    "UPDATE cases SET state = :state, resolution = :reason, resolved_at = :at,"
    " resolved_by = :by WHERE case_id = :c"
)


class RegistryProjection(Tables):
    name = "community.registry"
    streams = (STREAM,)
    announce = True
    table_ddl = (
        PUBLISHED_TABLE, PUBLISHED_VERSIONS_TABLE, RATINGS_TABLE, REVIEWS_TABLE, CASES_TABLE,
    )  # fmt: skip
    index_ddl = (
        "CREATE INDEX IF NOT EXISTS published_search ON published USING gin (search)",
        "CREATE INDEX IF NOT EXISTS published_by_downloads ON published (downloads DESC)",
        "CREATE INDEX IF NOT EXISTS published_by_score ON published (score DESC)",
        "CREATE INDEX IF NOT EXISTS published_by_update ON published (updated_at DESC)",
        "CREATE INDEX IF NOT EXISTS published_by_use ON published (applications DESC)",
        "CREATE INDEX IF NOT EXISTS cases_by_state ON cases (state, reported_at)",
    )

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        match rec.event:
            case TemplatePublished() as ev:
                out.add(PUBLISHED, _published_row(rec, ev))
                out.add(PUBLISHED_VERSION, _published_row(rec, ev))
            case TemplateVersionPublished() as ev:
                out.add(VERSION_PUBLISHED, _published_row(rec, ev))
                out.add(PUBLISHED_VERSION, _published_row(rec, ev))
            case TemplateUnpublished() as ev:
                out.add(UNPUBLISHED, {"r": ev.registry_id})
            case TemplateDownloaded() as ev:
                out.add(DOWNLOADED, {"r": ev.registry_id})
            case TemplateRated() as ev:
                row = {"r": ev.registry_id, "by": ev.by, "stars": ev.stars, "at": rec.at}
                out.add(RATED, {"r": ev.registry_id, "stars": ev.stars, "previous": ev.previous})
                out.add(RATING, row)
            case TemplateReviewed() as ev:
                out.add(REVIEW, {"r": ev.registry_id, "by": ev.by, "text": ev.text, "at": rec.at})
            case TemplateReported() as ev:
                out.add(
                    REPORTED,
                    {"c": ev.case_id, "r": ev.registry_id, "by": ev.by, "reason": ev.reason,
                     "at": rec.at},
                )  # fmt: skip
            case TemplateHidden() as ev:
                out.add(HIDDEN, {"r": ev.registry_id, "reason": ev.reason})
                self._decided(out, rec, ev.case_id, "hidden", ev.reason, ev.by)
            case TemplateRestored() as ev:
                out.add(RESTORED, {"r": ev.registry_id})
                self._decided(out, rec, ev.case_id, "restored", ev.reason, ev.by)
            case ReportDismissed() as ev:
                self._decided(out, rec, ev.case_id, "dismissed", ev.reason, ev.by)
            case TemplateApplied(registry_id=str(), registry_url=url) as ev if (
                ev.template_id is not None and url == OWN_REGISTRY
            ):
                out.add(USED, {"r": ev.registry_id})

    @staticmethod
    def _decided(out: Writes, rec, case_id: str | None, state: str, reason: str, by: str) -> None:
        if case_id is not None:
            out.add(
                CASE_DECIDED,
                {"c": case_id, "state": state, "reason": reason, "at": rec.at, "by": by},
            )


def _published_row(rec: RecordedEvent, ev: TemplatePublished | TemplateVersionPublished) -> dict:
    fm = ev.front_matter
    return {
        "t": rec.tenant, "r": ev.registry_id, "publisher": ev.publisher, "key": ev.public_key,
        "author": ev.author, "name": fm.name, "description": fm.description,
        "domain": fm.domain, "methodology": fm.methodology, "keywords": json_text(fm.keywords),
        "keywords_text": " ".join(fm.keywords), "version": ev.version, "sha": ev.sha256,
        "content": ev.content, "fm": json_text(fm), "signature": ev.signature, "at": rec.at,
    }  # fmt: skip
