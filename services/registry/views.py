"""Reading the registry's read model: an expert's versions, the active one, the audit trail."""

from __future__ import annotations

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.registry import ActiveAdapter, AdapterView, AuditEntry, GetAudit
from contracts.trainer import AdapterFile, RunMetrics, TrainConfig
from runtime.db import struct_of
from runtime.moments import between
from runtime.rpc import not_found

COLUMNS = (
    "a.id, a.expert_id, a.source, a.created_at, a.registered_at, a.base_model, a.backend,"
    " a.dataset_id, a.run_id, a.config, a.metrics, a.traces_used, a.size_bytes, a.sha256,"
    " a.files, a.provider_model, a.filename, a.tags, a.valid, a.problems,"
    " (d.adapter_id IS NOT NULL AND d.adapter_id = a.id) AS is_active"
)
FROM = (
    " FROM registry.adapters a LEFT JOIN registry.deployments d"
    " ON d.tenant = a.tenant AND d.expert_id = a.expert_id"
)
LIST = text(
    f"SELECT {COLUMNS}{FROM} WHERE a.tenant = :t AND a.expert_id = :e"
    " AND a.deleted_at IS NULL ORDER BY a.registered_at DESC, a.id"
)
ONE = text(f"SELECT {COLUMNS}{FROM} WHERE a.tenant = :t AND a.id = :id AND a.deleted_at IS NULL")
ACTIVE = text(
    "SELECT adapter_id, version, activated_at, by FROM registry.deployments"
    " WHERE tenant = :t AND expert_id = :e"
)
EXPERT_OF = text(
    "SELECT expert_id, deleted_at FROM registry.adapters WHERE tenant = :t AND id = :id"
)
EXPERTS = text("SELECT DISTINCT tenant, expert_id FROM registry.adapters")


def to_view(row) -> AdapterView:
    return AdapterView(
        id=row.id,
        expert_id=row.expert_id,
        created_at=row.created_at,
        base_model=row.base_model,
        backend=row.backend,
        dataset_id=row.dataset_id,
        run_id=row.run_id,
        metrics=msgspec.convert(row.metrics, RunMetrics),
        tags=list(row.tags),
        is_active=bool(row.is_active),
        valid=row.valid,
        size_bytes=row.size_bytes,
        source=row.source,
        problems=list(row.problems),
        provider_model=row.provider_model,
        sha256=row.sha256,
        files=msgspec.convert(row.files, list[AdapterFile]),
        config=msgspec.convert(row.config, TrainConfig) if row.config else None,
        traces_used=row.traces_used,
        registered_at=row.registered_at.isoformat(),
        filename=row.filename,
    )


async def versions(conn: AsyncConnection, tenant: str, expert_id: str) -> list[AdapterView]:
    rows = (await conn.execute(LIST, {"t": tenant, "e": expert_id})).all()
    return [to_view(row) for row in rows]


async def version(conn: AsyncConnection, tenant: str, adapter_id: str) -> AdapterView | None:
    row = (await conn.execute(ONE, {"t": tenant, "id": adapter_id})).first()
    return to_view(row) if row else None


async def active(conn: AsyncConnection, tenant: str, expert_id: str) -> ActiveAdapter:
    row = (await conn.execute(ACTIVE, {"t": tenant, "e": expert_id})).first()
    if row is None:
        return ActiveAdapter(expert_id=expert_id, adapter_id=None)
    return ActiveAdapter(
        expert_id=expert_id,
        adapter_id=row.adapter_id,
        version=row.version,
        activated_at=row.activated_at.isoformat(),
        by=row.by,
    )


async def versions_and_active(
    conn: AsyncConnection, tenant: str, expert_id: str
) -> tuple[list[AdapterView], ActiveAdapter]:
    """An expert's versions, newest first, and its active one, read together."""
    return await versions(conn, tenant, expert_id), await active(conn, tenant, expert_id)


async def expert_of(conn: AsyncConnection, tenant: str, adapter_id: str) -> str:
    """The expert a version belongs to; 404 when there is no such version."""
    row = (await conn.execute(EXPERT_OF, {"t": tenant, "id": adapter_id})).first()
    if row is None:
        raise not_found(f"version {adapter_id}")
    return row.expert_id


async def experts(conn: AsyncConnection) -> list[tuple[str, str]]:
    return [(row.tenant, row.expert_id) for row in (await conn.execute(EXPERTS)).all()]


async def audit(conn: AsyncConnection, q: GetAudit) -> list[AuditEntry]:
    where = ["tenant = :t", "expert_id = :e"]
    params: dict = {"t": q.tenant, "e": q.expert_id, "limit": q.limit}
    for column, value in (("action", q.action), ("outcome", q.outcome),
                          ("adapter_id", q.adapter_id)):  # fmt: skip
        if value is not None:
            where.append(f"{column} = :{column}")
            params[column] = value
    between("at", q.since, q.until, where, params)
    sql = text(
        "SELECT seq, at, expert_id, action, outcome, adapter_id, previous_adapter_id, by, reason"
        f" FROM registry.audit WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT :limit"
    )
    rows = (await conn.execute(sql, params)).all()
    return [struct_of(AuditEntry, row) for row in rows]
