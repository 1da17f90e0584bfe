"""Which adapter version answers for each expert: the expert service follows the registry's
activations and rollbacks on the log (its own read model `expert.deployments`), so the very
next answer after an activation uses the new version — no restart, no call to the registry.

Before a version is used its files are checked against the sha256 the log recorded (again
only when a file's size or modification time changed since); a version whose files do not
match is refused with a sentence, never loaded. A version whose files are not on this
machine is copied from the `adapters` bucket first.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.base import DomainError, ErrorCode
from contracts.registry import (
    BASE,
    AdapterActivated,
    AdapterDeleted,
    AdapterRegistered,
    AdapterRolledBack,
)
from contracts.trainer import AdapterFile
from runtime.adapter_files import materialize
from runtime.eventstore import RecordedEvent
from runtime.projection import Writes
from services.expert.llm import Adapter

_json = msgspec.json.Encoder()

TABLE = (
    "CREATE TABLE IF NOT EXISTS deployments ("
    " tenant text NOT NULL, expert_id text NOT NULL, adapter_id text, base_model text,"
    " files jsonb NOT NULL DEFAULT '[]', provider_model text, version int NOT NULL,"
    " PRIMARY KEY (tenant, expert_id))"
)
DEPLOYED = text(
    "INSERT INTO deployments (tenant, expert_id, adapter_id, base_model, files,"
    " provider_model, version) VALUES (:t, :e, :adapter, :base, CAST(:files AS jsonb),"
    " :provider, :version) ON CONFLICT (tenant, expert_id) DO UPDATE SET"
    " adapter_id = EXCLUDED.adapter_id, base_model = EXCLUDED.base_model,"
    " files = EXCLUDED.files, provider_model = EXCLUDED.provider_model,"
    " version = EXCLUDED.version WHERE deployments.version < EXCLUDED.version"
)
VERSIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS versions ("
    " tenant text NOT NULL, adapter_id text NOT NULL, expert_id text NOT NULL,"
    " files jsonb NOT NULL, provider_model text, deleted boolean NOT NULL DEFAULT false,"
    " PRIMARY KEY (tenant, adapter_id))"
)
VERSION_ADDED = text(
    "INSERT INTO versions (tenant, adapter_id, expert_id, files, provider_model)"
    " VALUES (:t, :id, :e, CAST(:files AS jsonb), :provider) ON CONFLICT DO NOTHING"
)
VERSION_DELETED = text("UPDATE versions SET deleted = true WHERE tenant = :t AND adapter_id = :id")
CHOSEN = text(
    "SELECT adapter_id, files, provider_model FROM expert.versions"
    " WHERE tenant = :t AND adapter_id = :id AND expert_id = :e AND NOT deleted"
)
CURRENT = text(
    "SELECT adapter_id, files, provider_model FROM expert.deployments WHERE tenant = :t AND expert_id = :e"
)


class DeploymentsProjection:
    name = "expert.deployments"
    streams = ("REGISTRY",)
    announce = False

    async def create(self, conn: AsyncConnection) -> None:
        await conn.execute(text(TABLE))
        await conn.execute(text(VERSIONS_TABLE))

    async def indexes(self, conn: AsyncConnection) -> None:
        return None

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        match rec.event:
            case AdapterRegistered() as ev:
                out.add(
                    VERSION_ADDED,
                    {"t": rec.tenant, "id": ev.adapter_id, "e": ev.expert_id,
                     "files": _json.encode(ev.files).decode(), "provider": ev.provider_model},
                )  # fmt: skip
            case AdapterDeleted() as ev:
                out.add(VERSION_DELETED, {"t": rec.tenant, "id": ev.adapter_id})
            case AdapterActivated() | AdapterRolledBack() as ev:
                adapter = ev.adapter
                out.add(
                    DEPLOYED,
                    {
                        "t": rec.tenant,
                        "e": ev.expert_id,
                        "adapter": adapter.adapter_id if adapter else None,
                        "base": adapter.base_model if adapter else None,
                        "files": _json.encode(adapter.files if adapter else []).decode(),
                        "provider": adapter.provider_model if adapter else None,
                        "version": ev.version,
                    },
                )


class ActiveAdapters:
    """The adapter to answer with for an expert, checked; None for the base model."""

    def __init__(self, host) -> None:
        self.host = host
        self._checked: dict[str, tuple] = {}  # adapter id -> the files' (size, mtime) then

    async def for_expert(
        self, tenant: str, expert_id: str, backend_kind: str, chosen: str | None = None
    ) -> Adapter | None:
        """The active version, or the `chosen` one (`base`: none) that a benchmark asks for."""
        if chosen == BASE:
            return None
        async with self.host.engine.connect() as conn:
            if chosen is None:
                row = (await conn.execute(CURRENT, {"t": tenant, "e": expert_id})).first()
            else:
                params = {"t": tenant, "id": chosen, "e": expert_id}
                row = (await conn.execute(CHOSEN, params)).first()
                if row is None:
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
