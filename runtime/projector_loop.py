"""One stream of one projection, live: read in order, apply in batches, hold an unknown
event, retry a failing one and park it as stuck, wait out an outage, announce what was
committed."""

from __future__ import annotations

import asyncio

from runtime.applier import ReaderAhead, apply_in, recorded
from runtime.codec import UnknownEvent
from runtime.logs import get_logger
from runtime.ordered import OrderedReader
from runtime.outages import passing
from runtime.projection import announcement
from runtime.projector_state import describe
from runtime.sealing import ForgottenEvent

log = get_logger(__name__)

MAX_FAILURES = 30  # rounds in a row (about two minutes with backoff) before the loop gives up


class StreamLoop:
    def __init__(self, projector, stream: str, reader: OrderedReader) -> None:
        self.p, self.stream, self.reader = projector, stream, reader
        self.name = projector.name
        self.watch = projector.watch

    async def run(self) -> None:
        """Until cancelled, or stopped: on Python 3.11 `wait_for` (inside a fetch) can swallow
        the cancellation, so the loop also ends at the next round once the projector stops.
        A NATS or database error is retried with backoff; the loop ends (and the projector
        calls on_fatal) only when the connection is closed for good or the errors go on for
        MAX_FAILURES rounds in a row. An outage (the database unreachable, the disk full) is
        not counted: it is waited out, however long, every `outage_retry_s`."""
        failures = 0
        while not self.p.stopping:
            try:
                await self._round()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outage = passing(exc)
                failures += 0 if outage else 1
                if self.p.nc.is_closed or failures >= MAX_FAILURES:
                    raise
                log.warning(
                    "projection.outage" if outage else "projector.round_failed",
                    projection=self.name,
                    stream=self.stream,
                    failures=failures,
                    error=str(exc)[:300],
                )
                pacing = self.p.pacing
                await asyncio.sleep(
                    pacing.outage_retry_s if outage else min(pacing.backoff_s * 2**failures, 5.0)
                )

    async def _round(self) -> None:
        after = self.reader.position
        msgs = await self.reader.fetch(timeout=self.p.pacing.idle_s)
        try:
            if msgs:
                await self._deliver(after, msgs)
            else:
                await self._check_position()
        except ReaderAhead as ahead:
            log.warning(
                "projector.reader_ahead",
                projection=self.name,
                stream=self.stream,
                position=self.reader.position,
                checkpoint=ahead.checkpoint,
            )
            self.watch.saw(self.stream, ahead.checkpoint, exact=True)
            await self.reader.seek(ahead.checkpoint + 1)

    async def _checkpoint(self) -> int:
        return (await self.p.checkpoints())[self.stream]

    async def _check_position(self) -> None:
        """Idle: is the reader past the checkpoint (a restored database), or far behind it
        (another replica applied the events)?"""
        checkpoint = await self._checkpoint()
        if self.reader.position > checkpoint:
            raise ReaderAhead(checkpoint)
        if checkpoint > self.reader.position + self.p.batch_size:
            await self.reader.seek(checkpoint + 1)

    async def _deliver(self, after: int, msgs: list) -> None:
        """Apply `msgs` in order: known events in batches, holding at an unknown one."""
        while msgs:
            recs = []
            for msg in msgs:
                try:
                    recs.append(await recorded(self.stream, msg, self.p.sealer))
                except Exception:
                    break
            if recs:
                await self._until_applied(after, recs)
                after, msgs = recs[-1].seq, msgs[len(recs) :]
                continue
            try:
                await recorded(self.stream, msgs[0], self.p.sealer)
            except UnknownEvent:
                after, msgs = await self._hold(after, msgs)
            except Exception:  # a known type that does not decode: parked like a failure
                await self._until_applied(after, msgs[:1])
                after, msgs = msgs[0].metadata.sequence.stream, msgs[1:]

    async def _hold(self, after: int, msgs: list) -> tuple[int, list]:
        """An unknown event: wait for a build that knows it (or a replica that applied it)."""
        msg, seq = msgs[0], msgs[0].metadata.sequence.stream
        while True:
            try:
                await recorded(self.stream, msg, self.p.sealer)
            except UnknownEvent as exc:
                if await self._checkpoint() >= seq:
                    self.watch.clear(self.stream)
                    return seq, msgs[1:]  # a replica of a newer build applied it
                if self.watch.hold(self.stream, seq, exc.type):
                    log.warning(
                        "projection.waiting",
                        projection=self.name,
                        stream=self.stream,
                        seq=seq,
                        type=exc.type,
                    )
                await self.watch.sleep(self.p.pacing.hold_retry_s)
                continue
            self.watch.clear(self.stream)
            return after, msgs

    async def _until_applied(self, after: int, batch: list) -> None:
        """Apply a batch; after a failure apply one event at a time to find the culprit, retry
        it with backoff, then park it as stuck and retry it slowly. It is never skipped. An
        outage is not the event's fault and no try: the batch is tried again every
        `outage_retry_s` until it passes, and the view goes on as soon as it has."""
        tries, delay, away = 0, self.p.pacing.backoff_s, False
        while batch:
            item = batch[0]
            try:
                if tries == 0 and len(batch) > 1:
                    await self._apply(after, batch)
                    batch = []
                for item in list(batch):
                    await self._apply(after, [item])
                    after, batch = _seq(item), batch[1:]
            except (ReaderAhead, asyncio.CancelledError):
                raise
            except Exception as exc:
                if passing(exc):
                    if not away:  # logged once, when it begins
                        away = True
                        log.warning(
                            "projection.outage",
                            projection=self.name,
                            **describe(self.stream, item, exc).fields(),
                        )
                    await self.watch.sleep(self.p.pacing.outage_retry_s)
                    continue
                tries += 1
                if tries == 1 and len(batch) > 1:
                    continue  # which event failed? one at a time from here
                trouble = describe(self.stream, item, exc)
                pacing = self.p.pacing
                if tries >= pacing.attempts:
                    if self.watch.park(self.stream, trouble):
                        log.error("projection.stuck", projection=self.name, **trouble.fields())
                    await self.watch.sleep(pacing.parked_retry_s)
                else:
                    log.warning("projection.retry", projection=self.name, **trouble.fields())
                    await self.watch.sleep(delay)
                    delay = min(delay * 2, pacing.max_backoff_s)
        self.watch.clear(self.stream)

    async def _apply(self, after: int, batch: list) -> None:
        recs = [
            await recorded(self.stream, i, self.p.sealer) if hasattr(i, "metadata") else i
            for i in batch
        ]
        async with self.p.engine.begin() as conn:
            applied = await apply_in(
                conn,
                self.p.schema,
                self.p.projection,
                self.stream,
                recs,
                after=after,
                tracer=self.p.tracer,
            )
        if applied:
            self.watch.saw(self.stream, applied[-1].seq)
            await self._announce(applied)

    async def _announce(self, applied: list) -> None:
        if not self.p.projection.announce:
            return
        try:
            for rec in applied:
                if isinstance(rec.event, ForgottenEvent):
                    continue  # a forgotten person's event: nothing to show
                subject = f"projected.{rec.stream}.{rec.tenant}"
                await self.p.nc.publish(subject, announcement(rec, self.name))
        except Exception as exc:  # the view is committed; SSE clients replay from the log
            log.warning("projector.announce_failed", projection=self.name, error=str(exc))


def _seq(item) -> int:
    return item.metadata.sequence.stream if hasattr(item, "metadata") else item.seq
