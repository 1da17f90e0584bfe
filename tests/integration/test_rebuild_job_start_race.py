"""A rebuild asked for just as the running one finishes starts, rather than failing.

`Jobs.start` inserts a running job (one at a time, by a partial unique index) and, when one
is already running, reads that one back. If it finished between the two statements there
was nothing to read back: POST /api/admin/projections/{service}/rebuild answered 500
(found by tests/integration/test_api_fuzz.py).
"""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from runtime.jobs import Jobs

pytestmark = pytest.mark.integration


class FinishingFirst:
    """An engine whose transactions let `finish()` run just before they look for the
    running job, as if that job finished in between."""

    def __init__(self, engine, finish) -> None:
        self.engine, self.finish = engine, finish

    @asynccontextmanager
    async def begin(self):
        async with self.engine.begin() as conn:
            yield self.Connection(conn, self.finish)

    def connect(self):
        return self.engine.connect()

    class Connection:
        def __init__(self, conn, finish) -> None:
            self.conn, self.finish = conn, finish

        async def execute(self, statement, *args, **kwargs):
            if str(statement).startswith("SELECT * FROM") and self.finish is not None:
                finish, self.finish = self.finish, None
                await finish()
            return await self.conn.execute(statement, *args, **kwargs)


async def test_a_rebuild_asked_for_as_the_running_one_finishes_starts(services):
    engine = services["ingest"].engine
    schema = f"jobs_race_{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        jobs = Jobs(engine, schema, "ingest")
        await jobs.ensure()
        first, created = await jobs.start(["ingest.documents"])
        assert created and first.state == "running"

        racing = Jobs(FinishingFirst(engine, lambda: jobs.finish(first.id)), schema, "ingest")
        second, created = await racing.start(["ingest.documents"])

        assert created and second.id != first.id and second.state == "running"
        assert (await jobs.get(first.id)).state == "done"
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
