"""Which adapter version answers for an expert: the one its deployment names (the expert
service follows the registry's activations and rollbacks on the log, `projections.py`), so
the very next answer after an activation uses the new version, with no restart and no call
to the registry.

Before a version is used its files are checked against the sha256 the log recorded (again
only when a file's size or modification time changed since); a version whose files do not
match is refused with a sentence, never loaded. A version whose files are not on this
machine is copied from the `adapters` bucket first.
"""

from __future__ import annotations

import msgspec

from contracts.base import DomainError, ErrorCode
from contracts.registry import BASE
from contracts.registry import STREAM as REGISTRY
from contracts.trainer import AdapterFile
from runtime.adapter_files import materialize
from runtime.service import ServiceHost
from services.expert import views
from services.expert.llm import Adapter


class ActiveAdapters:
    """The adapter to answer with for an expert, checked; None for the base model."""

    def __init__(self, host: ServiceHost) -> None:
        self.host = host
        self._checked: dict[str, tuple] = {}  # adapter id -> the files' (size, mtime) then

    async def for_expert(
        self, tenant: str, expert_id: str, backend_kind: str, chosen: str | None = None
    ) -> Adapter | None:
        """The active version, or the `chosen` one (`base`: none) that a benchmark asks for."""
        if chosen == BASE:
            return None
        row = await self._deployed(tenant, expert_id, chosen)
        if row is None and chosen is not None:
            # registered a moment ago (a benchmark queued right after an import): the view of
            # deployments may not show it yet, so catch up with the registry's log, then judge
            await self.host.caught_up_with_log(REGISTRY)
            row = await self._deployed(tenant, expert_id, chosen)
        if row is None and chosen is not None:
            raise DomainError(
                ErrorCode.NOT_FOUND, f"version {chosen} of expert {expert_id} not found"
            )
        if row is None or row.adapter_id is None:
            return None
        if row.provider_model:
            if backend_kind != "openai":
                raise DomainError(
                    ErrorCode.CONFLICT,
                    f"version {row.adapter_id} is the hosted model"
                    f" {row.provider_model}: point the expert's backend at that provider, or"
                    " activate a local version",
                )
            return Adapter(row.adapter_id, self.host.settings.home, row.provider_model)
        files = msgspec.convert(row.files, list[AdapterFile])
        return await self._checked_folder(tenant, row.adapter_id, files)

    async def _deployed(self, tenant: str, expert_id: str, chosen: str | None):
        async with self.host.engine.connect() as conn:
            return await views.deployed(conn, tenant, expert_id, chosen)

    async def _checked_folder(self, tenant: str, adapter_id: str, files) -> Adapter:
        home = self.host.settings.home
        folder = home / "lora-adapters" / adapter_id
        signature = _signature(folder, files)
        if signature is not None and self._checked.get(adapter_id) == signature:
            return Adapter(adapter_id, folder)
        folder, problems = await materialize(self.host.objects, home, tenant, adapter_id, files)
        if problems:
            self._checked.pop(adapter_id, None)
            raise DomainError(
                ErrorCode.CONFLICT,
                f"version {adapter_id} was not loaded: {'; '.join(problems)}."
                " Roll back or activate another version",
            )
        self._checked[adapter_id] = _signature(folder, files)
        return Adapter(adapter_id, folder)


def _signature(folder, files) -> tuple | None:
    try:
        return tuple(
            (f.name, (s := (folder / f.name).stat()).st_size, s.st_mtime_ns) for f in files
        )
    except OSError:
        return None
