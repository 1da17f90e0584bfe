"""The erasure's VACUUM lets go of a reader's lock after a second (so it never holds answers
up for long); that short patience is its own. The connection it used goes back to the
service's pool, and whoever is handed it next waits for a lock as every reader does: a
search during a projection rebuild's swap (which holds the live tables) answers, instead of
failing on the vacuum's one-second timeout (found by the fresh-clone run)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from runtime.db import make_engine
from runtime.erasure import vacuum
from tests.support.locks import held

pytestmark = pytest.mark.integration

HELD_S = 1.5  # longer than the vacuum's lock timeout (1 s)


async def test_a_read_after_an_erasure_vacuum_waits_for_a_lock_as_any_read_does(servers):
    schema = "vac" + uuid.uuid4().hex[:10]
    table = f'"{schema}"."passages"'
    engine = make_engine(servers.database_url, pool_size=1)  # the vacuum's connection, again
    holder = make_engine(servers.database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            await conn.execute(text(f"CREATE TABLE {table} (id int PRIMARY KEY, body text)"))
            await conn.execute(text(f"INSERT INTO {table} VALUES (1, 'kept')"))
        await vacuum(engine, [table])

        async with held(holder, table, HELD_S), engine.connect() as conn:
            assert await conn.scalar(text(f"SELECT body FROM {table} WHERE id = 1")) == "kept"
    finally:
        async with holder.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()
        await holder.dispose()
