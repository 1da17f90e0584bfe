"""Exporting a version: its files checked against the log, then packed with its manifest
as a `.tar.gz` that PEFT (`PeftModel.from_pretrained` on the extracted folder) and vLLM's
LoRA loader take as is, into the `exports` bucket for the gateway to stream."""

from __future__ import annotations

import asyncio
import tempfile

from contracts.base import DomainError, ErrorCode
from contracts.registry import EXPORTS, AdapterExport, ExportAdapter
from runtime.adapter_files import adapter_folder
from services.registry import archive, domain
from services.registry.aggregates import EXPERT_VERSIONS
from services.registry.commands import RegistryCommands
from services.registry.files import manifest_of


class Exporting:
    def __init__(self, commands: RegistryCommands) -> None:
        self.commands = commands
        self.host = commands.host

    async def run(self, q: ExportAdapter) -> AdapterExport:
        expert_id = await self.commands.expert_of(q.tenant, q.adapter_id)
        state, _ = await EXPERT_VERSIONS.load(self.host.store, q.tenant, expert_id)
        version = domain.version_of(state, q.adapter_id)
        if not version.registered.files:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"version {q.adapter_id} is a hosted model ({version.registered.provider_model}):"
                " its weights stay with the provider, so there is nothing to export",
            )
        problems = await self.commands.checked(q.tenant, expert_id, q.adapter_id, "export",
                                               always=False)  # fmt: skip
        if problems:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"version {q.adapter_id} cannot be exported: " + "; ".join(problems),
            )
        manifest = manifest_of(version, active=state.active == q.adapter_id)
        folder = adapter_folder(self.host.settings.home, q.adapter_id)
        with tempfile.TemporaryFile() as sink:
            await asyncio.to_thread(archive.pack, folder, manifest, sink)
            sink.seek(0)
            name = f"{q.tenant}/adapters/{q.adapter_id}.tar.gz"
            ref = await self.host.objects.put(EXPORTS, name, sink, tenant=q.tenant)
        return AdapterExport(object=ref, filename=f"adapter-{q.adapter_id}.tar.gz")
