"""Command and query handlers of the expert service."""

from __future__ import annotations

import uuid

from contracts.base import Accepted
from contracts.expert import (
    CreateExpert,
    DeleteExpert,
    ExpertList,
    ExpertView,
    GetExpert,
    ListExperts,
    UpdateExpert,
)
from runtime.rpc import not_found
from runtime.service import ServiceHost
from services.expert import domain, projections
from services.expert.aggregates import EXPERT


class ExpertHandlers:
    def __init__(self, host: ServiceHost) -> None:
        self.host = host

    async def create(self, cmd: CreateExpert) -> Accepted:
        expert_id = cmd.expert_id or uuid.uuid4().hex[:12]
        outcome = await EXPERT.execute(
            self.host.store,
            cmd.tenant,
            expert_id,
            lambda s: domain.decide_create(s, cmd, expert_id),
        )
        return Accepted(id=expert_id, seq=outcome.seq)

    async def update(self, cmd: UpdateExpert) -> Accepted:
        outcome = await EXPERT.execute(
            self.host.store, cmd.tenant, cmd.expert_id, lambda s: domain.decide_update(s, cmd)
        )
        return Accepted(id=cmd.expert_id, seq=outcome.seq)

    async def delete(self, cmd: DeleteExpert) -> Accepted:
        outcome = await EXPERT.execute(
            self.host.store, cmd.tenant, cmd.expert_id, lambda s: domain.decide_delete(s, cmd)
        )
        return Accepted(id=cmd.expert_id, seq=outcome.seq)

    async def get(self, query: GetExpert) -> ExpertView:
        await self.host.caught_up("EXPERT", query.after_seq)
        async with self.host.engine.connect() as conn:
            view = await projections.get_expert(conn, query.tenant, query.expert_id)
        if view is None:
            raise not_found(f"expert {query.expert_id}")
        return view

    async def list(self, query: ListExperts) -> ExpertList:
        await self.host.caught_up("EXPERT", query.after_seq)
        async with self.host.engine.connect() as conn:
            return ExpertList(experts=await projections.list_experts(conn, query.tenant))
