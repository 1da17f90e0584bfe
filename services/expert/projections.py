"""The read models of the expert service, each rebuilt from the log:

- `ExpertsProjection` (`expert.experts`): one row per live expert, from the EXPERT stream.
- `TracesProjection` (`expert.traces`): one row per answer or draft, with its latest score
  and feedback, from the EXPERT stream.
- `DeploymentsProjection` (`expert.deployments`, `expert.versions`): which adapter version
  answers for each expert, following the registry's activations and rollbacks on the
  REGISTRY stream, so the very next answer after an activation uses the new version.

Their reads are `views.py`.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import text

from contracts import expert, registry
from contracts.answers import AnswerGiven, AnswerScored, BackendConfigured, FeedbackGiven, ScoreView
from contracts.expert import ExpertCreated, ExpertDeleted, ExpertUpdated
from contracts.registry import (
    AdapterActivated,
    AdapterDeleted,
    AdapterRegistered,
    AdapterRolledBack,
)
from runtime.eventstore import RecordedEvent
from runtime.projection import Tables, Writes

_json = msgspec.json.Encoder()


def _encode(value) -> str:
    return _json.encode(value).decode()


# ---- experts --------------------------------------------------------------------------------

CREATED = text(
    "INSERT INTO experts VALUES (:t, :id, CAST(:p AS jsonb), 1, :at, :at) ON CONFLICT DO NOTHING"
)
# A patch replaces whole top-level fields, exactly what jsonb `||` does.
UPDATED = text(
    "UPDATE experts SET profile = profile || CAST(:p AS jsonb), version = version + 1,"
    " updated_at = :at WHERE tenant = :t AND id = :id"
)
DELETED = text("DELETE FROM experts WHERE tenant = :t AND id = :id")
# The backend as a person sees it: the sealed key stays on the log, the view says only
# whether there is one.
BACKEND = text(
    "UPDATE experts SET backend = CAST(:b AS jsonb), version = version + 1, updated_at = :at"
    " WHERE tenant = :t AND id = :id"
)


class ExpertsProjection(Tables):
    name = "expert.experts"
    streams = (expert.STREAM,)
    announce = True
    table_ddl = (
        "CREATE TABLE IF NOT EXISTS experts ("
        " tenant text NOT NULL, id text NOT NULL, profile jsonb NOT NULL,"
        " version int NOT NULL, created_at timestamptz NOT NULL,"
        " updated_at timestamptz NOT NULL, backend jsonb,"
        " PRIMARY KEY (tenant, id))",
        "ALTER TABLE experts ADD COLUMN IF NOT EXISTS backend jsonb",
    )  # no index_ddl: the primary key is all it needs

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        key = {"t": rec.tenant, "id": rec.aggregate_id, "at": rec.at}
        match rec.event:
            case ExpertCreated(profile=profile):
                out.add(CREATED, {**key, "p": _encode(profile)})
            case ExpertUpdated(changes=changes):
                out.add(UPDATED, {**key, "p": _encode(changes)})
            case ExpertDeleted():
                out.add(DELETED, key)
            case BackendConfigured() as ev:
                shown = {
                    "kind": ev.kind,
                    "base_url": ev.base_url,
                    "model": ev.model,
                    "api_key_set": ev.api_key_sealed is not None,
                    "timeout_s": ev.timeout_s,
                }
                out.add(BACKEND, {**key, "b": _encode(shown)})


# ---- traces ---------------------------------------------------------------------------------

GIVEN = text(
    "INSERT INTO traces (tenant, answer_id, expert_id, kind, mode, question, answer, trace,"
    " created_at) VALUES (:t, :id, :e, :kind, :mode, :q, :a, CAST(:trace AS jsonb), :at)"
    " ON CONFLICT DO NOTHING"
)
SCORED = text(
    "UPDATE traces SET score = :score, score_detail = CAST(:detail AS jsonb)"
    " WHERE tenant = :t AND answer_id = :id"
)
FEEDBACK = text(
    "UPDATE traces SET rating = :rating, feedback = CAST(:fb AS jsonb),"
    " feedback_count = feedback_count + 1, feedback_at = :at"
    " WHERE tenant = :t AND answer_id = :id"
)
EXPERT_GONE = text("DELETE FROM traces WHERE tenant = :t AND expert_id = :e")


class TracesProjection(Tables):
    name = "expert.traces"
    streams = (expert.STREAM,)
    announce = False  # the experts projection announces the EXPERT stream's events
    table_ddl = (
        "CREATE TABLE IF NOT EXISTS traces ("
        " tenant text NOT NULL, answer_id text NOT NULL, expert_id text NOT NULL,"
        " kind text NOT NULL, mode text NOT NULL, question text NOT NULL,"
        " answer text NOT NULL, trace jsonb NOT NULL, created_at timestamptz NOT NULL,"
        " score real, score_detail jsonb, rating int, feedback jsonb,"
        " feedback_count int NOT NULL DEFAULT 0, feedback_at timestamptz,"
        " PRIMARY KEY (tenant, answer_id))",
    )
    index_ddl = (
        "CREATE INDEX IF NOT EXISTS traces_by_expert"
        " ON traces (tenant, expert_id, created_at DESC, answer_id DESC)",
    )

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        key = {"t": rec.tenant, "id": rec.aggregate_id, "at": rec.at}
        match rec.event:
            case AnswerGiven() as ev:
                out.add(
                    GIVEN,
                    {
                        **key,
                        "e": ev.expert_id,
                        "kind": ev.kind,
                        "mode": ev.mode,
                        "q": ev.question,
                        "a": ev.answer,
                        "trace": _encode(ev),
                    },
                )
            case AnswerScored() as ev:
                detail = ScoreView(
                    score=ev.score,
                    groundedness=ev.groundedness,
                    citation_validity=ev.citation_validity,
                    sanity=ev.sanity,
                    refusal=ev.refusal,
                    reasons=ev.reasons,
                    scorer_version=ev.scorer_version,
                )
                out.add(SCORED, {**key, "score": ev.score, "detail": _encode(detail)})
            case FeedbackGiven() as ev:
                feedback = {
                    "rating": ev.rating,
                    "edited_answer": ev.edited_answer,
                    "tags": ev.tags,
                    "comment": ev.comment,
                }
                out.add(FEEDBACK, {**key, "rating": ev.rating, "fb": _encode(feedback)})
            case ExpertDeleted(expert_id=expert_id):
                out.add(EXPERT_GONE, {"t": rec.tenant, "e": expert_id})


# ---- deployments ----------------------------------------------------------------------------

TABLE = (
    "CREATE TABLE IF NOT EXISTS deployments ("
    " tenant text NOT NULL, expert_id text NOT NULL, adapter_id text, base_model text,"
    " files jsonb NOT NULL DEFAULT '[]', provider_model text, version int NOT NULL,"
    " PRIMARY KEY (tenant, expert_id))"
)
DEPLOYED = text(
    "INSERT INTO deployments (tenant, expert_id, adapter_id, base_model, files,"
    " provider_model, version) VALUES (:t, :e, :adapter, :base, CAST(:files AS jsonb),"
    " :provider, :version) ON CONFLICT (tenant, expert_id) DO UPDATE SET"
    " adapter_id = EXCLUDED.adapter_id, base_model = EXCLUDED.base_model,"
    " files = EXCLUDED.files, provider_model = EXCLUDED.provider_model,"
    " version = EXCLUDED.version WHERE deployments.version < EXCLUDED.version"
)
VERSIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS versions ("
    " tenant text NOT NULL, adapter_id text NOT NULL, expert_id text NOT NULL,"
    " files jsonb NOT NULL, provider_model text, deleted boolean NOT NULL DEFAULT false,"
    " PRIMARY KEY (tenant, adapter_id))"
)
VERSION_ADDED = text(
    "INSERT INTO versions (tenant, adapter_id, expert_id, files, provider_model)"
    " VALUES (:t, :id, :e, CAST(:files AS jsonb), :provider) ON CONFLICT DO NOTHING"
)
VERSION_DELETED = text("UPDATE versions SET deleted = true WHERE tenant = :t AND adapter_id = :id")


class DeploymentsProjection(Tables):
    name = "expert.deployments"
    streams = (registry.STREAM,)
    announce = False
    table_ddl = (TABLE, VERSIONS_TABLE)

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        match rec.event:
            case AdapterRegistered() as ev:
                out.add(
                    VERSION_ADDED,
                    {"t": rec.tenant, "id": ev.adapter_id, "e": ev.expert_id,
                     "files": _encode(ev.files), "provider": ev.provider_model},
                )  # fmt: skip
            case AdapterDeleted() as ev:
                out.add(VERSION_DELETED, {"t": rec.tenant, "id": ev.adapter_id})
            case AdapterActivated() | AdapterRolledBack() as ev:
                adapter = ev.adapter
                out.add(
                    DEPLOYED,
                    {
                        "t": rec.tenant,
                        "e": ev.expert_id,
                        "adapter": adapter.adapter_id if adapter else None,
                        "base": adapter.base_model if adapter else None,
                        "files": _encode(adapter.files if adapter else []),
                        "provider": adapter.provider_model if adapter else None,
                        "version": ev.version,
                    },
                )
