"""Queries of the registry: an expert's versions (by tag), one version, the active one, and
the audit trail."""

from __future__ import annotations

from contracts.registry import (
    ActiveAdapter,
    AdapterList,
    AdapterView,
    AuditTrail,
    GetActiveAdapter,
    GetAdapter,
    GetAudit,
    ListAdapters,
)
from runtime.service import Hosted
from services.registry import views


class RegistryQueries(Hosted):
    async def list(self, q: ListAdapters) -> AdapterList:
        adapters, active = await self.host.read(
            q, lambda conn: views.versions_and_active(conn, q.tenant, q.expert_id)
        )
        if q.tag is not None:
            adapters = [a for a in adapters if q.tag in a.tags]
        return AdapterList(
            expert_id=q.expert_id,
            adapters=adapters,
            active_adapter_id=active.adapter_id,
            version=active.version,
        )

    async def get(self, q: GetAdapter) -> AdapterView:
        return await self.host.read_by_id(q, views.version, q.adapter_id, "version")

    async def active(self, q: GetActiveAdapter) -> ActiveAdapter:
        return await self.host.read(q, lambda conn: views.active(conn, q.tenant, q.expert_id))

    async def audit(self, q: GetAudit) -> AuditTrail:
        # The trail is read as the log stands now: a refusal answered a moment ago is on it.
        entries = await self.host.read(q, lambda conn: views.audit(conn, q), now=True)
        return AuditTrail(expert_id=q.expert_id, entries=entries)
