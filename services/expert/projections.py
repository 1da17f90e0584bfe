"""The experts read model: one row per live expert, rebuilt from the EXPERT stream."""

from __future__ import annotations

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.answers import BackendConfigured
from contracts.expert import ExpertCreated, ExpertDeleted, ExpertUpdated, ExpertView, Profile
from runtime.eventstore import RecordedEvent
from runtime.projection import Writes

SCHEMA = "expert"


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
_json = msgspec.json.Encoder()


class ExpertsProjection:
    name = "expert.experts"
    streams = ("EXPERT",)
    announce = True

    async def create(self, conn: AsyncConnection) -> None:
        await conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS experts ("
                " tenant text NOT NULL, id text NOT NULL, profile jsonb NOT NULL,"
                " version int NOT NULL, created_at timestamptz NOT NULL,"
                " updated_at timestamptz NOT NULL, backend jsonb,"
                " PRIMARY KEY (tenant, id))"
            )
        )
        await conn.execute(text("ALTER TABLE experts ADD COLUMN IF NOT EXISTS backend jsonb"))

    async def indexes(self, conn: AsyncConnection) -> None:
        pass  # the primary key is all it needs

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        key = {"t": rec.tenant, "id": rec.aggregate_id, "at": rec.at}
        match rec.event:
            case ExpertCreated(profile=profile):
                out.add(CREATED, {**key, "p": _json.encode(profile).decode()})
            case ExpertUpdated(changes=changes):
                out.add(UPDATED, {**key, "p": _json.encode(changes).decode()})
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
                out.add(BACKEND, {**key, "b": _json.encode(shown).decode()})


def to_view(row) -> ExpertView:
    profile = msgspec.convert(row.profile, Profile)
    return ExpertView(
        id=row.id,
        name=profile.name,
        description=profile.description,
        domain=profile.domain,
        goals=profile.goals,
        influences=profile.influences,
        style_guide=profile.style_guide,
        base_model=profile.base_model,
        banned_topics=profile.banned_topics,
        version=row.version,
        created_at=row.created_at.isoformat(),
        updated_at=row.updated_at.isoformat(),
    )


async def get_expert(conn: AsyncConnection, tenant: str, expert_id: str) -> ExpertView | None:
    row = (
        await conn.execute(
            text("SELECT * FROM expert.experts WHERE tenant = :t AND id = :id"),
            {"t": tenant, "id": expert_id},
        )
    ).first()
    return to_view(row) if row else None


async def list_experts(conn: AsyncConnection, tenant: str) -> list[ExpertView]:
    rows = await conn.execute(
        text("SELECT * FROM expert.experts WHERE tenant = :t ORDER BY created_at, id"),
        {"t": tenant},
    )
    return [to_view(r) for r in rows]
