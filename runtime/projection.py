"""What a projection is, and the set-based writer it applies events with.

A projection turns events into rows. It names its tables without a schema: the projector
points `search_path` at the live schema, or at a shadow schema while rebuilding. Its
`apply` does not talk to Postgres itself; it adds statements to a `Writes`, which sends a
run of the same statement (one per event, say) as a single pipelined executemany, in the
order they were added — the same result as one statement at a time, many times faster.
"""

from __future__ import annotations

from functools import cache
from typing import Protocol

import msgspec
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection

from runtime.codec import encode, event_class
from runtime.eventstore import RecordedEvent

SECRET = "_sealed"  # the ending of a field that never leaves the log and its service


class Writes:
    """Statements of one batch of events, sent in order; consecutive runs of the same
    statement go as one executemany. `conn` is there for a projection that must read."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._runs: list[tuple[TextClause, list[dict]]] = []

    def add(self, sql: TextClause, params: dict) -> None:
        if self._runs and self._runs[-1][0].text == sql.text:
            self._runs[-1][1].append(params)
        else:
            self._runs.append((sql, [params]))

    def add_many(self, sql: TextClause, rows: list[dict]) -> None:
        for params in rows:
            self.add(sql, params)

    async def flush(self) -> None:
        runs, self._runs = self._runs, []
        for sql, rows in runs:
            await self.conn.execute(sql, rows if len(rows) > 1 else rows[0])


class Projection(Protocol):
    name: str  # "ingest.documents"
    streams: tuple[str, ...]  # the context streams it reads, e.g. (contracts.ingest.STREAM,)
    announce: bool  # publish each applied event on `projected.<stream>.<tenant>` after commit
    # optional: `extensions: tuple[str, ...]`, Postgres extensions it needs (created in public)

    async def create(self, conn: AsyncConnection) -> None: ...  # tables, idempotent, unqualified
    async def indexes(self, conn: AsyncConnection) -> None: ...  # built after a rebuild's replay
    async def apply(self, out: Writes, event: RecordedEvent) -> None: ...


class Tables:
    """`create` and `indexes` for a projection whose tables and indexes are plain DDL, run in
    order: `table_ddl` (each `CREATE TABLE IF NOT EXISTS` or the like, idempotent) at start,
    `index_ddl` after a rebuild's replay (the indexes a live projector builds at start too)."""

    table_ddl: tuple[str, ...] = ()
    index_ddl: tuple[str, ...] = ()

    async def create(self, conn: AsyncConnection) -> None:
        for statement in self.table_ddl:
            await conn.execute(text(statement))

    async def indexes(self, conn: AsyncConnection) -> None:
        for statement in self.index_ddl:
            await conn.execute(text(statement))


def announcement(rec: RecordedEvent, projection: str) -> bytes:
    """What the live feed (`projected.<STREAM>.<tenant>`) and the SSE endpoint say of an
    event: where it lies on the log and its public view."""
    return encode(
        {
            "stream": rec.stream,
            "seq": rec.seq,
            "type": rec.type,
            "tenant": rec.tenant,
            "aggregate_id": rec.aggregate_id,
            "occurred_at": rec.occurred_at,
            "projection": projection,
            "data": public_view(rec.event),
        }
    )


def public_view(event: object) -> object:
    """The event without its secrets and without what a person wrote: a field named
    `*_sealed` (an API key sealed for the service that uses it) stays on the log and in that
    service, sealed or not, and so do its personal fields (`runtime.sealing`): the feed says
    what changed, the API (which checks who asks) says what it holds. The gateway's replay,
    which has no keyring, shows the same (`public_raw`). An event type with no such field
    (most) goes out as it is."""
    secret = _secret_fields(type(event))
    if not secret:
        return event
    data = msgspec.to_builtins(event)
    for name in secret:
        data.pop(name, None)
    return data


def public_raw(raw: dict) -> dict:
    """`public_view` of an event as the raw JSON on the log (sealed or not), for a reader
    that cannot open it: the same fields left out, by the event's type."""
    event_type = event_class(raw.get("type"))
    secret = _secret_fields(event_type) if event_type is not None else ()
    return {k: v for k, v in raw.items() if k not in secret} if secret else raw


@cache
def _secret_fields(event_type: type) -> tuple[str, ...]:
    fields = getattr(event_type, "__struct_fields__", ())
    personal = getattr(event_type, "personal", ())
    return tuple(name for name in fields if name.endswith(SECRET) or name in personal)
