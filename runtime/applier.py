"""Applying a batch of events to a projection's tables, exactly once.

The batch and the checkpoint `(projection, stream) -> last sequence` are written in the
same transaction, after the checkpoint row was locked: replicas take turns, and whatever
is at or below the checkpoint is skipped. The checkpoint, not the consumer, is the truth:
a reader that handed out events past the checkpoint (the database was restored, or a
rebuild swapped in an older copy) must read again from checkpoint + 1.

An event of a forgotten tenant (`runtime.sealing.ForgottenEvent`) is passed over: the
checkpoint moves past it, and the person's rows do not come back on a rebuild.
"""

from __future__ import annotations

from contextlib import nullcontext

from opentelemetry.trace import Tracer
from sqlalchemy.ext.asyncio import AsyncConnection

from runtime import db, telemetry
from runtime.eventstore import RecordedEvent, to_recorded
from runtime.projection import Projection, Writes
from runtime.sealing import ForgottenEvent, Sealer

# events applied to a projection, by projection and stream (a context's log): how fast views
# follow the log, and, beside the stream's own counts, whether one has fallen behind
applied = telemetry.meter("simtune.projector").create_counter(
    "simtune.projection.events", unit="{event}", description="events applied to projections"
)


class ReaderAhead(Exception):
    """The reader is past the checkpoint; read again from `checkpoint + 1`."""

    def __init__(self, checkpoint: int) -> None:
        super().__init__(f"the reader is ahead of checkpoint {checkpoint}")
        self.checkpoint = checkpoint


async def recorded(stream: str, msg, sealer: Sealer | None) -> RecordedEvent:
    """A JetStream message as a RecordedEvent (UnknownEvent for a type this build lacks),
    its personal fields opened by `sealer`."""
    return await to_recorded(
        stream, msg.metadata.sequence.stream, msg.subject, msg.data, msg.headers, sealer
    )


async def apply_in(
    conn: AsyncConnection,
    schema: str,
    projection: Projection,
    stream: str,
    recs: list[RecordedEvent],
    *,
    after: int | None = None,
    tracer: Tracer | None = None,
) -> list[RecordedEvent]:
    """Apply `recs` (in stream order) into `schema` inside the caller's transaction; returns
    those that were new. `after` is where the reader stood before `recs`: beyond the
    checkpoint, events in between were never applied, so ReaderAhead is raised."""
    await db.use_schema(conn, schema)
    last = await db.read_checkpoint(conn, schema, projection.name, stream)
    if after is not None and after > last:
        raise ReaderAhead(last)
    todo = [rec for rec in recs if rec.seq > last]
    if not todo:
        return []
    out = Writes(conn)
    for rec in todo:
        if isinstance(rec.event, ForgottenEvent):
            continue
        with _span(tracer, projection.name, rec):
            await projection.apply(out, rec)
    await out.flush()
    await db.write_checkpoint(conn, schema, projection.name, stream, todo[-1].seq)
    applied.add(len(todo), {"projection": projection.name, "stream": stream})
    return todo


def _span(tracer: Tracer | None, projection: str, rec: RecordedEvent):
    if tracer is None:
        return nullcontext()
    return tracer.start_as_current_span(
        f"project {rec.type}",
        context=telemetry.extract(rec.headers),
        attributes={"projection": projection, "seq": rec.seq},
    )
