"""Postgres access for projections: one async engine per process, one schema per service.

Projections write unqualified table names; a projector sets the transaction's
`search_path` to the schema it fills (the service's own, or a shadow schema during a
rebuild), with `public` after it, where extension types such as pgvector's live.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
import numpy as np
from pgvector import Vector
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

S = TypeVar("S")

# A session that sits in an open transaction this long is ended by Postgres: a task cancelled
# mid-query can leave its connection so, holding locks that a rebuild's swap would wait on.
IDLE_IN_TRANSACTION_MS = 60_000


class DatabaseUnreachable(ConnectionError):
    """A connection to the database could not be made: it is down, restarting or hung."""


# What the driver raises when the server is shutting down, starting, recovering, or when a
# connection is lost mid-query (not when a statement fails).
_UNREACHABLE = (
    DatabaseUnreachable,
    asyncpg.exceptions.PostgresConnectionError,  # the connection failed or is gone
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, recovering
)


def causes(error: BaseException) -> Iterator[BaseException]:
    """`error`, then what caused it (`__cause__`, else `__context__`), each once."""
    seen: set[int] = set()
    found: BaseException | None = error
    while found is not None and id(found) not in seen:
        seen.add(id(found))
        yield found
        found = found.__cause__ or found.__context__


def unreachable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached right now (it is down, starting
    or was lost mid-query), so the same request may well succeed in a moment."""
    return any(
        isinstance(e, _UNREACHABLE) or (isinstance(e, DBAPIError) and e.connection_invalidated)
        for e in causes(error)
    )


# Another session's lock in the way: Postgres broke a deadlock by cancelling this statement,
# or the statement's lock timeout ran out. Nothing was wrong with the statement itself.
_LOCK_CONFLICT = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.LockNotAvailableError,
)


def lock_conflict(error: BaseException) -> bool:
    """Whether `error` (or what caused it) is a statement cancelled for another session's
    lock, so the same read, asked again, will most likely be answered."""
    return any(isinstance(e, _LOCK_CONFLICT) for e in causes(error))


def _connect(dialect, _record, cargs, cparams):
    """Open a driver connection; a refused, missing or silent server becomes
    DatabaseUnreachable (the driver raises a bare OSError or TimeoutError, which a
    handler's own file or network trouble would raise too)."""
    try:
        return dialect.loaded_dbapi.connect(*cargs, **cparams)
    except (OSError, TimeoutError) as exc:
        raise DatabaseUnreachable(f"cannot connect to the database: {exc}") from exc


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    settings = {"idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS)}
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=5,
        pool_pre_ping=True,
        connect_args={"server_settings": settings},
    )
    event.listen(engine.sync_engine, "connect", _on_connect)
    event.listen(engine.sync_engine, "do_connect", _connect)
    return engine


def _on_connect(dbapi_connection, _record) -> None:
    dbapi_connection.run_async(register_vector_codec)


async def register_vector_codec(conn) -> None:
    """pgvector's binary format on this asyncpg connection, when the extension exists.

    A parameter of type vector may then be a numpy array or list of floats (sent as binary,
    no text formatting on the event loop), or still a text literal `[1,2,3]`; a vector
    column reads back as a float32 numpy array.
    """
    schema = await conn.fetchval(
        "SELECT n.nspname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
        " WHERE t.typname = 'vector' LIMIT 1"
    )
    if schema is not None:
        await conn.set_type_codec(
            "vector",
            schema=schema,
            encoder=_vector_to_binary,
            decoder=lambda data: Vector.from_binary(data).to_numpy(),
            format="binary",
        )


def _vector_to_binary(value) -> bytes:
    if isinstance(value, str):
        return Vector.from_text(value).to_binary()
    if isinstance(value, Vector):
        return value.to_binary()
    return Vector(np.asarray(value, dtype=np.float32)).to_binary()


async def ensure_extensions(engine: AsyncEngine, extensions: tuple[str, ...]) -> None:
    """Create missing extensions in `public`; then reconnect the pool, so every connection
    knows their types (the vector codec is registered when a connection opens)."""
    if not extensions:
        return
    async with engine.begin() as conn:
        found = await conn.scalars(
            text("SELECT extname FROM pg_extension WHERE extname = ANY(:names)"),
            {"names": list(extensions)},
        )
        missing = set(extensions) - set(found)
        if not missing:
            return
        await ddl_lock(conn)
        for name in sorted(missing):
            await conn.execute(text(f'CREATE EXTENSION IF NOT EXISTS "{name}" WITH SCHEMA public'))
    await engine.dispose()


async def use_schema(conn: AsyncConnection, schema: str) -> None:
    """Unqualified names in this transaction mean `schema`'s tables (then `public`'s)."""
    await conn.execute(text(f'SET LOCAL search_path TO "{schema}", public'))


async def row_by_id(conn: AsyncConnection, table: str, tenant: str, id_: str, *, key: str = "id"):
    """The row of `table` ("schema.table") whose `key` column is `id_` for `tenant`, or None:
    the read behind every query for one thing by its id."""
    sql = text(f"SELECT * FROM {table} WHERE tenant = :t AND {key} = :id")
    return (await conn.execute(sql, {"t": tenant, "id": id_})).first()


def struct_of(cls: type[S], row: Any, **given: Any) -> S:
    """The contract `cls` (a msgspec Struct) of a read model's row: each field from the column
    of its name (a time as ISO text), or from `given`, which also names what has no column."""
    columns = row._mapping
    found = {
        name: _plain(columns[name])
        for name in cls.__struct_fields__  # type: ignore[attr-defined]
        if name in columns and name not in given
    }
    return cls(**found, **given)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def ensure_schema(engine: AsyncEngine, schema: str) -> None:
    """Create the service's schema and its checkpoint table (idempotent)."""
    async with engine.begin() as conn:
        await create_schema(conn, schema)


async def ensure_tables(engine: AsyncEngine, schema: str, statements: tuple[str, ...]) -> None:
    """Create `schema` and run each `CREATE ... IF NOT EXISTS` of `statements` in it, taking
    turns with other replicas (`ddl_lock`): for what lives beside the projections, not in them."""
    async with engine.begin() as conn:
        await ddl_lock(conn)
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        for statement in statements:
            await conn.execute(text(statement))


async def ddl_lock(conn: AsyncConnection) -> None:
    """Take turns with other processes for DDL until this transaction ends: two replicas
    starting at once would otherwise race on `CREATE ... IF NOT EXISTS` (a duplicate key)."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('simtune.ddl'))"))


async def create_schema(conn: AsyncConnection, schema: str) -> None:
    await ddl_lock(conn)
    await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    await conn.execute(
        text(
            f'CREATE TABLE IF NOT EXISTS "{schema}".checkpoints ('
            " projection text NOT NULL, stream text NOT NULL, last_seq bigint NOT NULL,"
            " updated_at timestamptz NOT NULL DEFAULT now(),"
            " PRIMARY KEY (projection, stream))"
        )
    )


async def ensure_checkpoint(conn: AsyncConnection, schema: str, projection: str, stream: str):
    """The checkpoint row exists before anything is applied, so the row lock taken by
    `read_checkpoint` serialises every replica, even on the very first batch."""
    await conn.execute(
        text(
            f'INSERT INTO "{schema}".checkpoints (projection, stream, last_seq)'
            " VALUES (:p, :s, 0) ON CONFLICT DO NOTHING"
        ),
        {"p": projection, "s": stream},
    )


async def read_checkpoint(conn: AsyncConnection, schema: str, projection: str, stream: str) -> int:
    """The checkpoint, locked until the transaction ends (one applier at a time)."""
    row = await conn.execute(
        text(
            f'SELECT last_seq FROM "{schema}".checkpoints'
            " WHERE projection = :p AND stream = :s FOR UPDATE"
        ),
        {"p": projection, "s": stream},
    )
    value = row.scalar()
    return int(value) if value is not None else 0


async def peek_checkpoints(conn: AsyncConnection, schema: str, projection: str) -> dict[str, int]:
    """Every stream's checkpoint of a projection, without waiting for an applier's lock."""
    rows = await conn.execute(
        text(f'SELECT stream, last_seq FROM "{schema}".checkpoints WHERE projection = :p'),
        {"p": projection},
    )
    return {stream: int(seq) for stream, seq in rows}


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
