"""The audit trail of an expert's adapter versions (`GET /api/lora/audit`): every action,
done or refused, newest first, as JSON or as CSV for a spreadsheet (the same rows)."""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Response, get
from litestar.params import Parameter

from contracts.expert import GetExpert
from contracts.registry import Action as AuditAction
from contracts.registry import AuditEntry, GetAudit
from contracts.registry import Outcome as AuditOutcome
from gateway.backend import Backend
from gateway.http.errors import error_responses
from gateway.http.fields import fields_from
from gateway.http.openapi import CSV, JSON, answering
from gateway.http.tables import as_csv, inert

AUDIT_COLUMNS = [f.name for f in msgspec.structs.fields(AuditEntry)]


@get(
    "/api/lora/audit",
    summary="The audit trail of an expert's versions: every action, done or refused",
    description="Newest first. `since` (inclusive) and `until` (exclusive) are ISO dates or"
    " times. `format=csv` answers the same rows as CSV with a header row.",
    responses=error_responses(400, 404),
    operation_class=answering(JSON, CSV),
)
async def audit(
    backend: Backend,
    expert_id: str = Parameter(description="The expert's id."),
    action: AuditAction | None = Parameter(default=None),
    outcome: AuditOutcome | None = Parameter(default=None),
    adapter_id: str | None = Parameter(default=None),
    since: str | None = Parameter(default=None),
    until: str | None = Parameter(default=None),
    limit: int = Parameter(default=1000, ge=1, le=10_000),
    format: Literal["json", "csv"] = Parameter(default="json"),
) -> Response:
    await backend.ask(GetExpert(expert_id=expert_id))
    query = fields_from(GetAudit, locals())  # the route's parameters named as its fields
    entries = (await backend.ask(query)).entries
    if format == "json":
        return Response(entries)
    return Response(
        audit_csv(entries),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{expert_id}.csv"'},
    )


def audit_csv(entries: list[AuditEntry]) -> str:
    """The entries as CSV, a header row first."""
    rows = ([getattr(entry, name) for name in AUDIT_COLUMNS] for entry in entries)
    return as_csv(
        AUDIT_COLUMNS, (["" if v is None else inert(str(v)) for v in row] for row in rows)
    )


ROUTES = [audit]
