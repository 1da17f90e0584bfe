"""Wiring of the expert service: its endpoints and its projection."""

from __future__ import annotations

from contracts.expert import CreateExpert, DeleteExpert, GetExpert, ListExperts, UpdateExpert
from runtime.service import ServiceHost
from services.expert.handlers import ExpertHandlers
from services.expert.projections import ExpertsProjection

NAME = "expert"


async def build(host: ServiceHost) -> None:
    handlers = ExpertHandlers(host)
    host.project(ExpertsProjection())
    host.endpoints.command("create", CreateExpert, handlers.create)
    host.endpoints.command("update", UpdateExpert, handlers.update)
    host.endpoints.command("delete", DeleteExpert, handlers.delete)
    host.endpoints.query("get", GetExpert, handlers.get)
    host.endpoints.query("list", ListExperts, handlers.list)
