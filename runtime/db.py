"""Postgres access for projections: one async engine per process, one schema per service."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    return create_async_engine(url, pool_size=pool_size, max_overflow=5, pool_pre_ping=True)


async def ensure_schema(engine: AsyncEngine, schema: str) -> None:
    """Create the service's schema and its checkpoint table (idempotent)."""
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.execute(
            text(
                f'CREATE TABLE IF NOT EXISTS "{schema}".checkpoints ('
                " projection text NOT NULL, stream text NOT NULL, last_seq bigint NOT NULL,"
                " updated_at timestamptz NOT NULL DEFAULT now(),"
                " PRIMARY KEY (projection, stream))"
            )
        )


async def read_checkpoint(conn: AsyncConnection, schema: str, projection: str, stream: str) -> int:
    row = await conn.execute(
        text(
            f'SELECT last_seq FROM "{schema}".checkpoints'
            " WHERE projection = :p AND stream = :s FOR UPDATE"
        ),
        {"p": projection, "s": stream},
    )
    value = row.scalar()
    return int(value) if value is not None else 0


async def write_checkpoint(
    conn: AsyncConnection, schema: str, projection: str, stream: str, seq: int
) -> None:
    await conn.execute(
        text(
            f'INSERT INTO "{schema}".checkpoints (projection, stream, last_seq)'
            " VALUES (:p, :s, :q) ON CONFLICT (projection, stream)"
            " DO UPDATE SET last_seq = EXCLUDED.last_seq, updated_at = now()"
        ),
        {"p": projection, "s": stream, "q": seq},
    )


async def delete_checkpoints(conn: AsyncConnection, schema: str, projection: str) -> None:
    await conn.execute(
        text(f'DELETE FROM "{schema}".checkpoints WHERE projection = :p'), {"p": projection}
    )
