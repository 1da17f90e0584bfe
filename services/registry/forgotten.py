"""What the registry keeps on disk of a forgotten person (`runtime.erasure`): the folder of
each of their adapter versions (`lora-adapters/<adapter_id>/`, named by id, so read from the
view before its rows go) and their experts' `active.json` pointers."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from runtime.adapter_files import adapter_folder, adapters_root

ADAPTERS_OF = text("SELECT id FROM registry.adapters WHERE tenant = :t")


def tenant_paths(home: Path):
    async def paths(conn: AsyncConnection, tenant: str) -> list[Path]:
        ids = list(await conn.scalars(ADAPTERS_OF, {"t": tenant}))
        return [adapter_folder(home, i) for i in ids] + [adapters_root(home) / "experts" / tenant]

    return paths
