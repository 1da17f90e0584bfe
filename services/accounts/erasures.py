"""The audit of deleted data: `accounts.erasures`, one row per person forgotten (who asked,
when), and `accounts.erasure_parts`, one row per service that said what it removed
(`TenantErased`). Both come from events under the install's audit tenant, on every context's
stream, so they stay when the person's own events read as forgotten; they hold ids, times
and counts, never content. The forgotten tenant's column is named `forgotten`, not
`tenant`: an erasure removes every row with a `tenant` column of the person, and this audit
is exactly what must stay.

A service that has not said yet is *pending*: every context on the log erases (each service
wires `runtime.erasure`), so the report is complete once each has.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.accounts import ErasurePart, ErasureReport, UserForgotten
from contracts.erasure import INSTALL, TenantErased
from contracts.events import STREAMS
from runtime.eventstore import RecordedEvent
from runtime.projection import Tables, Writes

CONTEXTS = tuple(sorted(STREAMS))  # every context erases its part
LISTED = 200  # erasures the owner's list shows at most, newest first

ERASURES_TABLE = (
    "CREATE TABLE IF NOT EXISTS erasures ("
    " forgotten text PRIMARY KEY, user_id text NOT NULL, by text NOT NULL,"
    " requested_at text NOT NULL, seq bigint NOT NULL)"
)
PARTS_TABLE = (
    "CREATE TABLE IF NOT EXISTS erasure_parts ("
    " forgotten text NOT NULL, context text NOT NULL, rows bigint NOT NULL,"
    " objects bigint NOT NULL, files bigint NOT NULL, bytes_freed bigint NOT NULL,"
    " wal text NOT NULL, erased_at timestamptz NOT NULL, PRIMARY KEY (forgotten, context))"
)
FORGOTTEN = text(
    "INSERT INTO erasures (forgotten, user_id, by, requested_at, seq)"
    " VALUES (:t, :u, :by, :at, :seq) ON CONFLICT (forgotten) DO NOTHING"
)
ERASED = text(
    "INSERT INTO erasure_parts (forgotten, context, rows, objects, files, bytes_freed, wal,"
    " erased_at) VALUES (:t, :c, :rows, :objects, :files, :bytes, :wal, :at)"
    " ON CONFLICT (forgotten, context) DO NOTHING"
)

ONE = text(
    "SELECT forgotten, user_id, by, requested_at, seq FROM accounts.erasures"
    " WHERE user_id = :u ORDER BY requested_at DESC LIMIT 1"
)
LATEST = text(
    "SELECT forgotten, user_id, by, requested_at, seq FROM accounts.erasures"
    f" ORDER BY requested_at DESC LIMIT {LISTED}"
)
PARTS = text(
    "SELECT forgotten, context, rows, objects, files, bytes_freed, wal, erased_at"
    " FROM accounts.erasure_parts WHERE forgotten = ANY(:ts) ORDER BY context"
)


class ErasuresProjection(Tables):
    """Every context's `erasure` aggregates under the install's tenant (and nothing else),
    never announced."""

    name = "accounts.erasures"
    streams = tuple(STREAMS[c] for c in CONTEXTS)
    announce = False
    table_ddl = (ERASURES_TABLE, PARTS_TABLE)
    index_ddl = ("CREATE INDEX IF NOT EXISTS erasures_by_user ON erasures (user_id)",)

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        if rec.tenant != INSTALL:
            return
        match rec.event:
            case UserForgotten() as ev:
                out.add(FORGOTTEN, {"t": ev.tenant, "u": ev.user_id, "by": ev.by,
                                    "at": ev.requested_at, "seq": rec.seq})  # fmt: skip
            case TenantErased() as ev:
                out.add(
                    ERASED,
                    {"t": ev.tenant, "c": ev.context, "rows": ev.rows, "objects": ev.objects,
                     "files": ev.files, "bytes": ev.bytes_freed, "wal": ev.wal, "at": rec.at},
                )  # fmt: skip


async def report_of(conn: AsyncConnection, user_id: str) -> ErasureReport | None:
    """The latest erasure of `user_id`, with what each service removed; None if none."""
    row = (await conn.execute(ONE, {"u": user_id})).first()
    if row is None:
        return None
    return (await _reports(conn, [row]))[0]


async def latest(conn: AsyncConnection) -> list[ErasureReport]:
    return await _reports(conn, list(await conn.execute(LATEST)))


async def _reports(conn: AsyncConnection, rows: list) -> list[ErasureReport]:
    if not rows:
        return []
    parts: dict[str, list[ErasurePart]] = {}
    found = await conn.execute(PARTS, {"ts": [r.forgotten for r in rows]})
    for p in found:
        parts.setdefault(p.forgotten, []).append(
            ErasurePart(
                context=p.context,
                rows=p.rows,
                objects=p.objects,
                files=p.files,
                bytes_freed=p.bytes_freed,
                wal=p.wal,
                erased_at=p.erased_at.isoformat(timespec="seconds"),
            )  # fmt: skip
        )
    reports = []
    for r in rows:
        done = parts.get(r.forgotten, [])
        pending = [c for c in CONTEXTS if c not in {p.context for p in done}]
        reports.append(
            ErasureReport(
                user_id=r.user_id,
                tenant=r.forgotten,
                by=r.by,
                requested_at=r.requested_at,
                parts=done,
                pending=pending,
                complete=not pending,
                seq=r.seq,
            )  # fmt: skip
        )
    return reports
