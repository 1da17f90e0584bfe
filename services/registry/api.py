"""Wiring of the registry service: its endpoints, its read model, the reactor that registers
every trained adapter and the one that keeps the plain files in step with the log."""

from __future__ import annotations

from contracts.registry import (
    ActivateAdapter,
    DeleteAdapter,
    ExportAdapter,
    GetActiveAdapter,
    GetAdapter,
    GetAudit,
    ImportAdapter,
    ListAdapters,
    RollbackAdapter,
    TagAdapter,
    VerifyAdapter,
)
from runtime.service import ServiceHost
from services.registry.exporting import Exporting
from services.registry.handlers import RegistryHandlers
from services.registry.importing import Importing
from services.registry.mirroring import VERSIONS_EVENTS, Mirroring
from services.registry.projections import VersionsProjection
from services.registry.registering import Registering

NAME = "registry"
TRAINED = "evt.trainer.*.run.>"


async def build(host: ServiceHost) -> None:
    handlers = RegistryHandlers(host)
    mirroring = Mirroring(host)
    host.project(VersionsProjection())
    host.react("registry.register", "TRAINER", Registering(host).on_trainer, subject=TRAINED)
    host.react("registry.files", "REGISTRY", mirroring.on_registry, subject=VERSIONS_EVENTS)
    host.after_rebuild(mirroring.rewrite_all)
    host.endpoints.serve(ActivateAdapter, handlers.activate)
    host.endpoints.serve(RollbackAdapter, handlers.rollback)
    host.endpoints.serve(TagAdapter, handlers.tag)
    host.endpoints.serve(DeleteAdapter, handlers.delete)
    host.endpoints.serve(VerifyAdapter, handlers.verify)
    host.endpoints.serve(ImportAdapter, Importing(handlers).run)
    host.endpoints.serve(ListAdapters, handlers.list)
    host.endpoints.serve(GetAdapter, handlers.get)
    host.endpoints.serve(GetActiveAdapter, handlers.active)
    host.endpoints.serve(GetAudit, handlers.audit)
    host.endpoints.serve(ExportAdapter, Exporting(handlers).run)
