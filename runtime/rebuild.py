"""Rebuilding a projection without taking it away: replay into a shadow schema, swap in.

1. A fresh shadow schema gets the projection's tables (no secondary indexes yet) and its
   own checkpoints; the log is replayed into it in large set-based batches, committed
   without waiting for the disk (a crash only loses the shadow, which starts over).
2. The secondary indexes are built once, over the full tables.
3. Catch up, swap, resume: in one transaction the live checkpoint rows are locked (every
   replica's live projector waits for a moment), the shadow catches up to them, the live
   tables are dropped and the shadow's moved into the service schema, and the live
   checkpoints take the shadow's values. Readers see the old view until the commit and
   the new one after it; the live projectors go on from where they were.

The swap waits at most `LOCK_WAIT_S` for the live tables (a reader's open transaction holds
them); it then rolls back, and tries again from the shadow's checkpoint, up to `SWAP_TRIES`
times, before the rebuild fails with a sentence saying why. It never waits without end.

Normally the shadow replays up to the live checkpoint (so the live projector alone applies
and announces new events); `reset` replays up to the end of the log and lowers the
checkpoint to it, for a read model that is ahead of its log (a restored NATS store).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from runtime import db
from runtime.applier import apply_in, recorded
from runtime.codec import UnknownEvent
from runtime.eventstore import events_of
from runtime.logs import get_logger
from runtime.ordered import OrderedReader

log = get_logger(__name__)

BATCH = 2000  # events per shadow transaction
PREFETCH = 4 * BATCH  # events asked of the server at a time: they arrive while a batch applies
LOCK_WAIT_S = 10.0  # how long the swap waits for another session to let go of the live tables
SWAP_TRIES = 3
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK = "40P01"  # deadlock_detected: Postgres rolled the swap back to free a reader
Progress = Callable[[str, int, int], None]  # (projection, replayed, total)


class RebuildFailed(Exception):
    """The shadow could not be filled; the live view was left as it was."""


def shadow_schema(schema: str, projection: str) -> str:
    return f"{schema}__rebuild__{projection.replace('.', '_')}"[:63]


class ShadowRebuild:
    def __init__(self, projector, *, reset: bool = False, on_progress: Progress | None = None):
        self.p, self.reset, self.on_progress = projector, reset, on_progress
        self.name = projector.projection.name
        self.schema = projector.schema
        self.shadow = shadow_schema(self.schema, self.name)
        streams = projector.projection.streams
        self.readers = {
            s: OrderedReader(projector.js, s, events_of(s), batch=PREFETCH) for s in streams
        }
        self.buffer: dict[str, list] = {s: [] for s in streams}
        self.done: dict[str, int] = {s: 0 for s in streams}
        self.targets: dict[str, int] = {s: 0 for s in streams}

    async def run(self) -> int:
        log.info("rebuild.started", projection=self.name, shadow=self.shadow, reset=self.reset)
        try:
            await self._prepare()
            for stream in self.readers:
                await self.readers[stream].seek(1)
                await self._replay(stream, await self._target(stream))
            async with self.p.engine.begin() as conn:
                await db.use_schema(conn, self.shadow)
                await self.p.projection.indexes(conn)
            for stream in self.readers:  # what the live projector applied meanwhile
                await self._replay(stream, await self._target(stream))
            await self._swap_patiently()
        finally:
            for reader in self.readers.values():
                await reader.close()
            await self._drop_shadow()
        replayed = sum(self.done.values())
        log.info("rebuild.finished", projection=self.name, replayed=replayed)
        return replayed

    async def _prepare(self) -> None:
        await self._drop_shadow()
        async with self.p.engine.begin() as conn:
            await db.create_schema(conn, self.shadow)
            await db.use_schema(conn, self.shadow)
            await self.p.projection.create(conn)
            for stream in self.readers:
                await db.ensure_checkpoint(conn, self.shadow, self.name, stream)

    async def _drop_shadow(self) -> None:
        async with self.p.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.shadow}" CASCADE'))

    async def _target(self, stream: str) -> int:
        if self.reset:
            target = (await self.p.js.stream_info(stream)).state.last_seq
        else:
            target = (await self.p.checkpoints())[stream]
        self.targets[stream] = max(target, self.done[stream])
        self._report()
        return target

    async def _replay(self, stream: str, until: int, conn=None) -> None:
        """Apply the log of `stream` up to `until` to the shadow (in `conn`'s transaction
        when given, else in batches of their own)."""
        reader = self.readers[stream]
        while True:
            batch = [m for m in self.buffer[stream] if m.metadata.sequence.stream <= until]
            if not batch:
                if self.buffer[stream] or reader.position >= until:
                    return  # what remains lies beyond `until`
                msgs = await reader.fetch(timeout=5.0, batch=BATCH)
                if not msgs:
                    return  # nothing more in the log (`until` was past its end)
                self.buffer[stream].extend(msgs)
                continue
            self.buffer[stream] = self.buffer[stream][len(batch) :]
            recs = await self._decode(stream, batch)
            after = self.done[stream]
            if conn is not None:
                await apply_in(conn, self.shadow, self.p.projection, stream, recs, after=after)
            else:
                async with self.p.engine.begin() as own:
                    await own.execute(text("SET LOCAL synchronous_commit = off"))
                    await apply_in(own, self.shadow, self.p.projection, stream, recs, after=after)
            self.done[stream] = recs[-1].seq
            self._report()

    async def _decode(self, stream: str, msgs: list) -> list:
        try:
            return [await recorded(stream, msg, self.p.sealer) for msg in msgs]
        except UnknownEvent as exc:
            raise RebuildFailed(
                f"this build cannot read {exc.type} events; rebuild with a newer build"
            ) from exc

    async def _swap_patiently(self) -> None:
        for attempt in range(1, SWAP_TRIES + 1):
            done = dict(self.done)
            try:
                await self._swap()
                return
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) not in (LOCK_NOT_AVAILABLE, DEADLOCK):
                    raise  # a reader that locks the tables in another order: rolled back, retry
            log.warning("rebuild.swap_waited", projection=self.name, attempt=attempt)
            await self._rewind(done)  # the swap's transaction, and what it replayed, rolled back
        raise RebuildFailed(
            f"another session held the live tables for over {LOCK_WAIT_S:g} s, {SWAP_TRIES} times;"
            " the live view is unchanged, try again"
        )

    async def _rewind(self, done: dict[str, int]) -> None:
        self.done = done
        for stream, reader in self.readers.items():
            self.buffer[stream] = []
            await reader.seek(done[stream] + 1)

    async def _swap(self) -> None:
        live_name = f'"{self.schema}"'
        async with self.p.engine.begin() as conn:
            await conn.execute(text(f"SET LOCAL lock_timeout = '{int(LOCK_WAIT_S * 1000)}ms'"))
            live = {}
            for stream in self.readers:
                live[stream] = await db.read_checkpoint(conn, self.schema, self.name, stream)
                if not self.reset:
                    await self._replay(stream, live[stream], conn)
            tables = await conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": self.shadow}
            )
            for (table,) in tables.all():
                if table == "checkpoints":
                    continue
                await conn.execute(text(f'DROP TABLE IF EXISTS {live_name}."{table}" CASCADE'))
                await conn.execute(
                    text(f'ALTER TABLE "{self.shadow}"."{table}" SET SCHEMA {live_name}')
                )
            for stream in self.readers:
                await db.write_checkpoint(conn, self.schema, self.name, stream, self.done[stream])
            await conn.execute(text(f'DROP SCHEMA "{self.shadow}" CASCADE'))
        for stream in self.readers:
            self.p.watch.saw(stream, self.done[stream], exact=True)
        self.p.wake()

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.name, sum(self.done.values()), sum(self.targets.values()))
