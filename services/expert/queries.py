"""Query handlers of the expert service over its read models, by half: the expert's profile
and backend settings (`ProfileQueries`), and its answers' traces (`AnswerQueries`). Each
reads through `host.read`: caught up with the caller's last write, one connection, 404 when
nothing is found."""

from __future__ import annotations

from contracts.answers import BackendView, GetAnswer, GetBackend, ListTraces, TracePage, TraceView
from contracts.expert import ExpertList, ExpertView, GetExpert, ListExperts
from runtime.service import Hosted
from services.expert import views
from services.expert.aggregates import EXPERT
from services.expert.backends import label

LOCAL = {"kind": "local", "api_key_set": False, "timeout_s": 60.0}  # no backend configured


class ProfileQueries(Hosted):
    async def get(self, query: GetExpert) -> ExpertView:
        return await self.host.read_by_id(query, views.get_expert, query.expert_id, "expert")

    async def list(self, query: ListExperts) -> ExpertList:
        async def experts(conn) -> ExpertList:
            return ExpertList(experts=await views.list_experts(conn, query.tenant))

        return await self.host.read(query, experts)

    async def backend(self, query: GetBackend) -> BackendView:
        """The backend as the settings form shows it: never the key, only whether one is set."""
        row = await self.host.read_by_id(query, views.expert_backend, query.expert_id, "expert")
        shown = row.backend or LOCAL
        state, _ = await EXPERT.load(self.host.store, query.tenant, query.expert_id)
        return BackendView(
            kind=shown["kind"],
            base_url=shown.get("base_url"),
            model=shown.get("model"),
            api_key_set=shown["api_key_set"],
            timeout_s=shown["timeout_s"],
            label=label(state.backend, self.host.settings.base_model),
        )


class AnswerQueries(Hosted):
    async def answer(self, query: GetAnswer) -> TraceView:
        return await self.host.read_by_id(query, views.get_trace, query.answer_id, "answer")

    async def traces(self, query: ListTraces) -> TracePage:
        async def page(conn) -> TracePage | None:
            if await views.expert_backend(conn, query.tenant, query.expert_id) is None:
                return None
            return await views.list_traces(conn, query)

        return await self.host.read(query, page, missing=f"expert {query.expert_id}")
