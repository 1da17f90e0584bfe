"""Wiring of the registry service: its endpoints, its read model, the reactor that registers
every trained adapter and the one that keeps the plain files in step with the log."""

from __future__ import annotations

from contracts import expert
from contracts.registry import BUCKET as ADAPTERS
from contracts.registry import (
    EXPORTS,
    IMPORTS,
    VERSIONS,
    ExportAdapter,
    ImportAdapter,
    VersionsErased,
)
from contracts.trainer import RUN
from contracts.trainer import STREAM as TRAINER
from runtime.erasure import AfterErased, TenantErasure
from runtime.eventstore import events_of
from runtime.service import ServiceHost
from runtime.sweeping import sweep_forever
from services.registry.commands import RegistryCommands
from services.registry.exporting import Exporting
from services.registry.forgotten import tenant_paths
from services.registry.importing import Importing
from services.registry.projections import VersionsProjection
from services.registry.queries import RegistryQueries
from services.registry.reactors.adapter_trained import Registering
from services.registry.reactors.expert_deleted import Cascade
from services.registry.reactors.version_changes import Mirroring
from services.registry.sweeper import RegistrySweeper

NAME = "registry"


async def build(host: ServiceHost) -> None:
    queries = RegistryQueries(host)
    commands = RegistryCommands(host, queries)
    mirroring = Mirroring(host)
    host.project(VersionsProjection())
    host.react(
        "registry.register", TRAINER, Registering(host).on_trainer, subject=events_of(TRAINER, RUN)
    )
    host.react(
        "registry.files",
        host.stream,
        mirroring.on_registry,
        subject=events_of(host.stream, VERSIONS),
    )
    host.react("registry.cascade", expert.STREAM, Cascade(host).on_expert,
               subject=events_of(expert.STREAM, expert.AGGREGATE))  # fmt: skip
    host.after_rebuild(mirroring.rewrite_all)
    host.sweeper = RegistrySweeper(host)  # tests and tools sweep by hand
    host.background("sweep", lambda: sweep_forever("registry", host.sweeper.sweep))
    # a forgotten person's versions: rows, stored files, imports, exports, folders
    TenantErasure(
        host, buckets=(ADAPTERS, IMPORTS, EXPORTS), paths=tenant_paths(host.settings.home)
    ).wire()
    # what an erasure dropped from the views: no copy left in pages or WAL
    AfterErased(host, VERSIONS, (VersionsErased,), ("adapters", "deployments", "audit")).wire()
    host.endpoints.serve_handlers(commands, queries)
    host.endpoints.serve(ImportAdapter, Importing(commands).run)
    host.endpoints.serve(ExportAdapter, Exporting(commands).run)
