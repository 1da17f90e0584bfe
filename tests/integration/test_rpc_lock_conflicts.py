"""A read that meets another session's lock, on the real NATS and Postgres.

A projection rebuild's swap holds the live tables for a moment, and Postgres may break a
deadlock between it and a search by cancelling the search (found by the fresh-clone run: a
500). A query only reads, so the service asks it again and the person gets the answer; a
command is not repeated behind the caller's back, and what meets the lock answers "busy,
try again" (503), never an internal error.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from contracts.base import (
    ComponentHealth,
    DomainError,
    ErrorCode,
    GetHealth,
    RebuildJob,
    RebuildProjections,
    ServiceHealth,
)
from runtime.db import make_engine
from runtime.rpc import Endpoints, ask
from tests.support.locks import held

pytestmark = pytest.mark.integration

LOCK_TIMEOUT = "200ms"  # each try's patience with the held table
HELD_S = 0.5  # longer than one try, shorter than the four a query gets
ROW = ComponentHealth(name="row", kind="projection", state="running")


CONTEXT = "lockprobe"  # a service of the test's own, answering what every service answers


@pytest.fixture
async def probe(nc, servers):
    """A `lockprobe` service whose query (its health) and command (a rebuild) each read one
    table, each try waiting LOCK_TIMEOUT for its lock; yields (the table locked for a given
    number of seconds, the tries each made). The rows counted come back as the health's components or the job's id."""
    table = f'"lockprobe_{uuid.uuid4().hex[:10]}"'
    engine = make_engine(servers.database_url, pool_size=2)
    tries = {"query": 0, "command": 0}

    async def count(kind: str) -> int:
        tries[kind] += 1
        async with engine.begin() as conn:
            await conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            return await conn.scalar(text(f"SELECT count(*) FROM {table}"))

    async def health(q: GetHealth) -> ServiceHealth:
        rows = await count("query")
        return ServiceHealth(service=CONTEXT, components=[ROW] * rows)

    async def rebuild(c: RebuildProjections) -> RebuildJob:
        return RebuildJob(id=str(await count("command")), service=CONTEXT, state="done")

    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {table} (n int)"))
        await conn.execute(text(f"INSERT INTO {table} VALUES (1), (2)"))
    endpoints = Endpoints(nc, service=CONTEXT, context=CONTEXT)
    endpoints.serve(GetHealth, health)
    endpoints.serve(RebuildProjections, rebuild)
    await endpoints.start()

    try:
        yield (lambda seconds: held(engine, table, seconds)), tries
    finally:
        await endpoints.stop()
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        await engine.dispose()


async def test_a_query_held_up_by_a_lock_is_asked_again_and_answered(nc, probe):
    lock, tries = probe
    async with lock(HELD_S):
        answer = await ask(nc, GetHealth(), context=CONTEXT)
    assert len(answer.components) == 2
    assert tries["query"] >= 2  # the first try met the lock


async def test_a_command_held_up_by_a_lock_is_not_repeated_and_says_try_again(nc, probe):
    lock, tries = probe
    async with lock(HELD_S):
        with pytest.raises(DomainError) as refused:
            await ask(nc, RebuildProjections(), context=CONTEXT)
    assert refused.value.code == ErrorCode.UNAVAILABLE
    assert "busy" in refused.value.detail and "try again" in refused.value.detail
    for internal in ("deadlock", "lock timeout", "asyncpg", "SELECT"):  # no internals
        assert internal not in refused.value.detail
    assert tries["command"] == 1
    again = await ask(nc, RebuildProjections(), context=CONTEXT)
    assert again.id == "2"  # once the table is free, it goes through
