"""What the expert service keeps on disk of a forgotten person (`runtime.erasure`): the
copies of their adapter versions it answers with (`lora-adapters/<adapter_id>/`, made here
when the registry runs on another machine), named by id, so read from its views first."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from runtime.adapter_files import adapter_folder

ADAPTERS_OF = text(
    "SELECT adapter_id FROM expert.versions WHERE tenant = :t"
    " UNION SELECT adapter_id FROM expert.deployments WHERE tenant = :t AND adapter_id IS NOT NULL"
)


def tenant_paths(home: Path):
    async def paths(conn: AsyncConnection, tenant: str) -> list[Path]:
        return [adapter_folder(home, i) for i in await conn.scalars(ADAPTERS_OF, {"t": tenant})]

    return paths
