"""One service forgets a person ("delete my data"): the reaction every service wires to
`UserForgotten`, so that deleting is true everywhere a byte can hide.

The log itself needs nothing: the accounts service destroyed the person's data key, so every
event of theirs reads as forgotten (`runtime.sealing.ForgottenEvent`), projections skip it
and a rebuild never brings their rows back. What a service keeps *beside* the log is
erased here, in this order:

1. The key is destroyed here too (idempotent): this process's key cache forgets it at once,
   so nothing it decodes from now on reads as the person's.
2. Work still going for the tenant stops: a training run notices as it would a cancel
   (`services.trainer.running`), and whatever else still tries to append is refused
   (`TenantForgotten`) and ends as nothing to do.
3. The files the service names (`paths`: adapter folders, work folders; named by its rows)
   are removed, before the rows that name them, so a redelivery finds them again.
4. Rows: every table of the service's schema with a `tenant` column — and of the shadow
   schemas of a rebuild running now — loses the tenant's rows, with the projections'
   checkpoint rows locked so no batch applies meanwhile; then again once the projections
   have caught up with the log, for a batch decoded before the key was gone. `extra`
   deletes what is keyed otherwise (the accounts' credentials).
5. Objects under `<tenant>/` in the buckets the service names.
6. `VACUUM (FULL, ANALYZE)` of every table that held rows or still holds dead ones (what an
   attempt that died deleted), and of the keyring, whose old tuple held the wrapped key,
   outside a transaction: a plain DELETE leaves the row in the heap and TOAST pages until
   they are reused, and old statistics in `pg_statistic`. It first waits for every
   transaction older than the deletion to end, since a rewrite keeps what one could see.
7. The write-ahead log: `CHECKPOINT`, `pg_switch_wal()`, `CHECKPOINT`, so the segments that
   saw the rows are removed (the embedded server runs with `wal_recycle = off`: removed,
   not renamed for reuse). A role that may not do it leaves the WAL to the server's own
   checkpoints, and the report says so.
8. `TenantErased` (counts only) on the service's own stream under the install's audit
   tenant, once: its id derives from the UserForgotten's, and the erasure aggregate knows
   whether it was said already. A redelivery (a crash mid-way) redoes every step, which
   finds less to remove, and appends nothing twice.

`AfterErased` does steps 6 and 7 for the erasures a service makes on its own (an expert or a
document deleted), once its views have dropped the rows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import CursorResult, TextClause, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.accounts import STREAM as ACCOUNTS
from contracts.accounts import UserForgotten
from contracts.base import DomainError
from contracts.erasure import AGGREGATE, INSTALL, WAL_FLUSHED, WAL_LEFT, TenantErased
from runtime.aggregate import AggregateType
from runtime.eventstore import RecordedEvent, derived_id, events_of
from runtime.logs import get_logger
from runtime.reactor import Progress
from runtime.rebuild import shadow_schema
from runtime.service import ServiceHost

log = get_logger(__name__)

SUBJECT = f"evt.accounts.{INSTALL}.{AGGREGATE}.>"  # every UserForgotten (and nothing else)
KEYRING_TABLE = "keyring.data_keys"
# How long a VACUUM FULL waits for a reader before it lets go and tries again: while it
# waits, every new reader of the table queues behind it, so the wait is kept short and the
# tries many, spaced out (answers and searches are never held up for more than a second).
LOCK_TIMEOUT = "1s"
VACUUM_TRIES = 30
RETRY_AFTER_S = 1.0
CATCH_UP_S = 60.0
DEAD_ROWS = text(
    "SELECT schemaname, relname FROM pg_stat_user_tables WHERE schemaname = :s AND n_dead_tup > 0"
)
OLDER_WAIT_S = 120.0  # how long a vacuum waits for transactions older than the deletion
OLDER_POLL_S = 0.2
# Sessions of this database whose transaction, or snapshot, is not newer than `:x` (the
# deleting transaction): they may still see the deleted rows.
OLDER = text(
    "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
    " AND datname = current_database() AND ("
    " (backend_xid IS NOT NULL AND age(backend_xid) >= age(CAST(CAST(:x AS text) AS xid)))"
    " OR (backend_xmin IS NOT NULL"
    " AND age(backend_xmin) >= age(CAST(CAST(:x AS text) AS xid))))"
)

# (conn, tenant, user_id) -> {table: rows deleted}: what a service keeps keyed otherwise
Extra = Callable[[AsyncConnection, str, str], Awaitable[dict[str, int]]]
# (conn, tenant) -> the files and folders of the tenant (read before the rows go)
Paths = Callable[[AsyncConnection, str], Awaitable[list[Path]]]


@dataclass(frozen=True)
class Removed:
    rows: int = 0
    objects: int = 0
    files: int = 0
    bytes_freed: int = 0


def erased_line(context: str) -> AggregateType[bool]:
    """A context's erasure of one tenant seen only as "was TenantErased said?"."""
    return AggregateType(
        context, AGGREGATE, False, lambda done, event: done or isinstance(event, TenantErased)
    )


class TenantErasure:
    """What one service erases of a forgotten tenant (see the module's docstring)."""

    def __init__(
        self,
        host: ServiceHost,
        *,
        buckets: Iterable[str] = (),
        paths: Paths | None = None,
        extra: Extra | None = None,
    ) -> None:
        self.host = host
        self.buckets = tuple(buckets)
        self.paths, self.extra = paths, extra
        self.line = erased_line(host.context)

    def wire(self) -> None:
        """React to every UserForgotten, as `<context>.erasure`."""
        self.host.react(f"{self.host.context}.erasure", ACCOUNTS, self.react, subject=SUBJECT)

    async def react(self, rec: RecordedEvent, progress: Progress) -> None:
        event = rec.event
        if not isinstance(event, UserForgotten) or rec.tenant != INSTALL:
            return  # the TenantErased beside it, or anything else on the aggregate
        if event.tenant == INSTALL:
            return  # the install's own audit is never a person's
        await self.erase(rec, event, progress)

    async def erase(self, rec: RecordedEvent, event: UserForgotten, progress: Progress) -> Removed:
        host, tenant = self.host, event.tenant
        log.info("erasure.started", context=host.context, tenant=tenant)
        await host.keyring.destroy(tenant)
        async with host.engine.connect() as conn:  # named by the rows: before they go
            paths = await self.paths(conn, tenant) if self.paths is not None else []
        files, freed = await asyncio.to_thread(remove_paths, paths)
        held, _ = await self.delete_rows(tenant, event.user_id)
        await progress()
        await self._caught_up()  # a batch decoded before the key was gone has landed now
        again, deleted_by = await self.delete_rows(tenant, event.user_id)
        for table, count in again.items():
            held[table] = held.get(table, 0) + count
        objects = 0
        for bucket in self.buckets:
            objects += await host.objects.delete_under(bucket, f"{tenant}/")
        await progress()
        tables = [t for t, n in held.items() if n] + await self.with_dead_rows() + [KEYRING_TABLE]
        await vacuum(host.engine, tables, progress, after=deleted_by)
        wal = await flush_wal(host.engine)
        removed = Removed(rows=sum(held.values()), objects=objects, files=files, bytes_freed=freed)
        await self.line.execute(
            host.store,
            INSTALL,
            tenant,
            lambda done: (
                None
                if done
                else TenantErased(
                    tenant=tenant,
                    user_id=event.user_id,
                    context=host.context,
                    wal=wal,
                    **asdict(removed),
                )
            ),
            event_id=derived_id(rec.event_id, "erased", host.context),
            correlation_id=rec.correlation_id,
            races=5,
        )
        log.info(
            "erasure.finished", context=host.context, tenant=tenant, rows=removed.rows,
            objects=removed.objects, files=removed.files, wal=wal,
        )  # fmt: skip
        return removed

    async def delete_rows(self, tenant: str, user_id: str) -> tuple[dict[str, int], int]:
        """The tenant's rows in every table of the service's schemas (live and shadow) with
        a `tenant` column, and `extra`'s, in one transaction with the checkpoints locked;
        and the id of that transaction (what a vacuum must wait to be older than)."""
        schema = self.host.schema
        deleted: dict[str, int] = {}
        async with self.host.engine.begin() as conn:
            for locked in await schemas_with_checkpoints(conn, schema):
                await conn.execute(text(f'SELECT 1 FROM "{locked}".checkpoints FOR UPDATE'))
            if self.extra is not None:
                deleted.update(await self.extra(conn, tenant, user_id))
            for table in await tenant_tables(conn, schema):
                result = await conn.execute(
                    text(f"DELETE FROM {table} WHERE tenant = :t"), {"t": tenant}
                )
                deleted[table] = deleted.get(table, 0) + (result.rowcount or 0)
            xid = await conn.scalar(text("SELECT xid(pg_current_xact_id())::text::bigint"))
        return deleted, int(xid)

    async def with_dead_rows(self) -> list[str]:
        """The service's tables that still hold deleted rows: what an earlier attempt at this
        erasure deleted before its process died, say (its vacuum never ran)."""
        async with self.host.engine.connect() as conn:
            tables = set(await tenant_tables(conn, self.host.schema))
            rows = await conn.execute(DEAD_ROWS, {"s": self.host.schema})
            return [t for t in (f'"{s}"."{n}"' for s, n in rows) if t in tables]

    async def _caught_up(self) -> None:
        host = self.host
        streams = {s for p in host.projectors.values() for s in p.projection.streams}
        for stream in sorted(streams):
            try:
                info = await host.js.stream_info(stream)
                await host.caught_up(stream, info.state.last_seq, timeout=CATCH_UP_S)
            except DomainError as exc:  # a stuck view: the second sweep goes on without it
                log.warning("erasure.behind", context=host.context, stream=stream,
                            detail=exc.detail)  # fmt: skip


CHECKPOINT_SCHEMAS = text(
    "SELECT table_schema FROM information_schema.tables"
    " WHERE table_name = 'checkpoints'"
    " AND (table_schema = :s OR starts_with(table_schema, :p)) ORDER BY 1"
)
TENANT_TABLES = text(
    "SELECT c.table_schema, c.table_name FROM information_schema.columns c"
    " JOIN information_schema.tables t USING (table_schema, table_name)"
    " WHERE c.column_name = 'tenant' AND t.table_type = 'BASE TABLE'"
    " AND (c.table_schema = :s OR starts_with(c.table_schema, :p)) ORDER BY 1, 2"
)


async def _in_service_schemas(
    conn: AsyncConnection, query: TextClause, schema: str
) -> CursorResult:
    """`query` (`:s` the schema, `:p` the shadow prefix) over the service's schema and the
    shadow schemas of rebuilds running now, which hold the same tables."""
    return await conn.execute(query, {"s": schema, "p": shadow_schema(schema, "")})


async def schemas_with_checkpoints(conn: AsyncConnection, schema: str) -> list[str]:
    """The service's schema and the shadow schemas of rebuilds running now."""
    return list((await _in_service_schemas(conn, CHECKPOINT_SCHEMAS, schema)).scalars())


async def tenant_tables(conn: AsyncConnection, schema: str) -> list[str]:
    """Every table with a `tenant` column in the service's schema or its shadows, quoted."""
    rows = await _in_service_schemas(conn, TENANT_TABLES, schema)
    return [f'"{s}"."{t}"' for s, t in rows]


async def vacuum(
    engine: AsyncEngine,
    tables: list[str],
    progress: Progress | None = None,
    *,
    after: int | None = None,
) -> None:
    """`VACUUM (FULL, ANALYZE)` each table (rewritten: no dead row stays in its heap, TOAST
    or indexes; its statistics sampled afresh), then `pg_statistic`, whose old rows held
    samples of the values. Outside a transaction, as VACUUM must be; a reader holding a
    table makes it wait `LOCK_TIMEOUT`, then try again.

    A rewrite copies the rows that some transaction may still see (a row deleted by
    transaction `after` while an older one runs — another service's erasure, a long read —
    is "recently dead", not dead), so it first waits until every transaction that began
    before `after` has ended (at most `OLDER_WAIT_S`)."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        # for this session only: the connection goes back to the pool, and a reader given it
        # later must wait for a lock as every reader does (a rebuild's swap holds the tables)
        await conn.execute(text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))
        try:
            if after is not None:
                await _older_ended(conn, after, progress)
            for table in dict.fromkeys(tables):
                await _vacuum_one(conn, f"VACUUM (FULL, ANALYZE) {table}", table)
                if progress is not None:
                    await progress()
            try:
                await _vacuum_one(conn, "VACUUM FULL pg_catalog.pg_statistic", "pg_statistic")
            except DBAPIError as exc:  # a role that does not own the catalog
                log.warning("erasure.statistics_not_vacuumed", error=type(exc.orig).__name__)
        finally:
            try:
                await conn.execute(text("RESET lock_timeout"))
            except DBAPIError:
                await conn.invalidate()  # a broken connection: never handed out again


async def _older_ended(conn: AsyncConnection, xid: int, progress: Progress | None) -> None:
    deadline = asyncio.get_running_loop().time() + OLDER_WAIT_S
    while True:
        older = await conn.scalar(OLDER, {"x": str(xid)})
        if not older:
            return
        if asyncio.get_running_loop().time() > deadline:
            log.warning("erasure.older_transactions", running=older)
            return
        if progress is not None:
            await progress()
        await asyncio.sleep(OLDER_POLL_S)


async def _vacuum_one(conn: AsyncConnection, statement: str, table: str) -> None:
    for attempt in range(1, VACUUM_TRIES + 1):
        try:
            await conn.execute(text(statement))
            return
        except DBAPIError as exc:
            if "does not exist" in str(exc.orig):
                return  # a shadow swapped in meanwhile: nothing left to rewrite
            if attempt == VACUUM_TRIES:
                raise
            log.info("erasure.vacuum_waits", table=table, attempt=attempt)
            await asyncio.sleep(RETRY_AFTER_S)  # the readers queued behind it go first


async def flush_wal(engine: AsyncEngine) -> str:
    """Push the erased rows out of `pg_wal`: a checkpoint, a switch to a new segment and a
    checkpoint again remove the segments that saw them (best effort: `WAL_LEFT` when the
    role may not)."""
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("CHECKPOINT"))
            await conn.execute(text("SELECT pg_switch_wal()"))
            await conn.execute(text("CHECKPOINT"))
    except DBAPIError as exc:
        log.warning("erasure.wal_left", error=type(exc.orig).__name__)
        return WAL_LEFT
    return WAL_FLUSHED


def remove_paths(paths: Iterable[Path]) -> tuple[int, int]:
    """Remove files and folders; how many files went and how many bytes they held. What is
    already gone counts nothing."""
    files = freed = 0
    for path in dict.fromkeys(paths):
        if path.is_symlink() or path.is_file():
            try:
                freed += path.lstat().st_size
                path.unlink()
                files += 1
            except FileNotFoundError:
                pass
            continue
        if not path.is_dir():
            continue
        for folder, _, names in os.walk(path):
            for name in names:
                try:
                    freed += (Path(folder) / name).lstat().st_size
                    files += 1
                except FileNotFoundError:
                    pass
        shutil.rmtree(path, ignore_errors=True)
    return files, freed


class AfterErased:
    """Once this service's views have dropped what one of its erasure events removed (an
    expert's traces, datasets, runs or versions, a document's passages), the tables that
    held it are rewritten and the WAL pushed on, as for a forgotten person: a deleted row
    leaves no plain copy in a page or a WAL segment.

    `events` are the erasure events, on the service's own stream's `aggregate`; `tables`
    (unqualified, in the service's schema) what their projection deletes from. A reactor
    (`<context>.after_erased`) waits until the views show the event, then for every
    transaction older than that to end, then vacuums; a redelivery vacuums again, harmless."""

    def __init__(
        self, host: ServiceHost, aggregate: str, events: tuple[type, ...], tables: Iterable[str]
    ) -> None:
        self.host, self.aggregate, self.events = host, aggregate, events
        self.tables = [f'"{host.schema}"."{t}"' for t in tables]
        self._covered = 0  # the views had applied the stream up to here when a vacuum began

    def wire(self) -> None:
        stream = self.host.stream
        self.host.react(f"{self.host.context}.after_erased", stream, self.react,
                        subject=events_of(stream, self.aggregate))  # fmt: skip

    async def react(self, rec: RecordedEvent, progress: Progress) -> None:
        if not isinstance(rec.event, self.events) or rec.seq <= self._covered:
            return  # a vacuum that began once the views had dropped these rows covers them
        engine = self.host.engine
        await self.host.caught_up(rec.stream, rec.seq, timeout=CATCH_UP_S)
        covered = self._applied(rec.stream)  # an expert's fifty documents: one or two vacuums
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            now = int(await conn.scalar(text("SELECT xid(pg_current_xact_id())::text::bigint")))
        await vacuum(engine, self.tables, progress, after=now)
        await flush_wal(engine)
        self._covered = max(self._covered, covered)

    def _applied(self, stream: str) -> int:
        """How far every view of `stream` in this process has applied it (committed)."""
        known = [
            p.watch.known(stream)
            for p in self.host.projectors.values()
            if stream in p.projection.streams
        ]
        return min(known, default=0)
