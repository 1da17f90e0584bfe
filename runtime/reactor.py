"""Reactions to events (policies, process managers and long work off a work queue).

A reactor is a durable pull consumer shared by every replica of a service (a work queue),
so each event is handled by one of them. Handling must be idempotent: whatever a reaction
appends uses an event id derived from the triggering event's id, so a redelivery after a
crash appends nothing new (JetStream drops the duplicate, the aggregate's expected sequence
refuses it). While a handler runs, the reactor tells JetStream every third of the ack wait
that its worker is alive (`in_progress`), so only a dead worker's message is redelivered
after the ack wait, never a live one's that is slow (a busy machine, a NATS node failing
over); `progress()` says so at once, for a handler that has just finished a step.

A poison event costs that event, never the queue:

- A reaction that raises is retried with backoff. On its `max_deliver`-th attempt, or when
  the earlier attempts never finished (the worker died mid-work), `give_up(rec, error)`
  decides the failure as an event a person sees (a rejected document, say); the message is
  then terminated and counted in `health()["parked"]`.
- An event this build cannot read (a type from a newer release, a value it does not accept)
  is held: nak'ed with a delay (`hold_s`) and never acked, so a replica that knows it takes
  it. JetStream's own delivery limit is off for this reason (`runtime/consumers.py`); the
  deliveries spent holding, like those handed back when the service stops, are noted in
  `runtime/holds.py` and do not count as attempts. A worker that dies mid-work notes nothing.
- A reaction stopped by an outage (the database unreachable, the disk full: see
  `runtime/outages.py`) is not an attempt either: it is tried again every few seconds until
  the outage passes, so a database restart or a full disk decides no work as failed.
- An event of a forgotten tenant (`runtime.sealing.ForgottenEvent`) is acked unhandled, and
  so is one whose reaction would append personal content for a tenant forgotten meanwhile
  (`TenantForgotten`): there is nothing left to do for that person. Neither is logged with
  any of its content.
- Anything else that escapes the loop (an ack or nak on a closed connection, a bug here)
  calls `on_fatal(name, error)`. By default that logs and ends the process with status 70,
  so its supervisor starts a fresh one; `health()` says "failed" meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
from nats.aio.client import Client as NATS
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeout

from runtime import telemetry
from runtime.codec import UnknownEvent
from runtime.consumers import durable_name, work_queue
from runtime.eventstore import RecordedEvent, events_of, to_recorded
from runtime.holds import Holds
from runtime.logs import bind_request_context, get_logger
from runtime.outages import passing
from runtime.sealing import ForgottenEvent, Sealer, TenantForgotten
from runtime.secrets import SecretUnreadable

log = get_logger(__name__)

Progress = Callable[[], Awaitable[None]]
Handler = Callable[[RecordedEvent, Progress], Awaitable[None]]
GiveUp = Callable[[RecordedEvent, BaseException], Awaitable[None]]
OnFatal = Callable[[str, BaseException], object]

EXIT_FATAL = 70  # EX_SOFTWARE: the supervisor restarts the process
MAX_BACKOFF_S = 60.0
OUTAGE_RETRY_S = 5.0  # how often a reaction stopped by an outage (database, disk) tries again


class AttemptsExhausted(Exception):
    """The earlier deliveries of an event never finished (the worker died or was stopped)."""


def exit_process(name: str, error: BaseException) -> None:
    """The default `on_fatal`: a reactor that stopped working ends its process."""
    log.critical("reactor.fatal", reactor=name, error=f"{type(error).__name__}: {error}")
    sys.stderr.flush()
    os._exit(EXIT_FATAL)


class Reactor:
    def __init__(
        self,
        nc: NATS,
        name: str,
        stream: str,
        handler: Handler,
        *,
        subject: str | None = None,
        ack_wait_s: float = 60.0,
        concurrency: int = 1,
        max_deliver: int = 5,
        max_ack_pending: int = 1000,
        give_up: GiveUp | None = None,
        on_fatal: OnFatal = exit_process,
        hold_s: float = 30.0,
        sealer: Sealer | None = None,
        replicas: int = 1,
        backoff_s: float = 2.0,
        outage_retry_s: float = OUTAGE_RETRY_S,
    ) -> None:
        self.nc, self.js = nc, nc.jetstream()
        self.sealer = sealer  # opens the personal content of events (None: plain events only)
        self.name, self.stream, self.handler = name, stream, handler
        self.subject = subject or events_of(stream)
        self.ack_wait_s = ack_wait_s
        self.concurrency = max(concurrency, 1)
        self.max_deliver = max(max_deliver, 1)
        self.max_ack_pending = max(max_ack_pending, self.concurrency)
        self.give_up, self.on_fatal, self.hold_s = give_up, on_fatal, hold_s
        # after a failed attempt: `backoff_s` doubling to MAX_BACKOFF_S (SIMTUNE_RETRY_BACKOFF_S);
        # after an outage: `outage_retry_s` (SIMTUNE_OUTAGE_RETRY_S)
        self.backoff_s, self.outage_retry_s = backoff_s, outage_retry_s
        self.durable = durable_name("react", name)
        self.parked = 0
        self._holds = Holds(self.js, self.durable, replicas=replicas)
        self._held: dict[int, float] = {}  # stream sequence -> when it was last held here
        self._state, self._detail = "stopped", None
        self._trouble: str | None = None  # a passing problem while running (fetch failing)
        self._stopping = False
        self._subs: list = []
        self._tasks: list[asyncio.Task] = []
        self._tracer = telemetry.tracer("simtune.reactor")

    def health(self) -> dict:
        """name, kind "reactor", state running | stopped | failed, detail, parked."""
        detail = self._detail
        if self._state == "running":
            detail = self._trouble or self._holding()
        return {
            "name": self.name,
            "kind": "reactor",
            "state": self._state,
            "detail": detail,
            "parked": self.parked,
        }

    def _holding(self) -> str | None:
        now = time.monotonic()
        recent = [seq for seq, at in self._held.items() if now - at < 3 * self.hold_s + 5]
        if not recent:
            return None
        return (
            f"holding {len(recent)} event(s) this version cannot read until a newer version"
            " takes them"
        )

    async def start(self) -> None:
        self._subs = await work_queue(
            self.js,
            self.stream,
            self.subject,
            self.durable,
            ack_wait_s=self.ack_wait_s,
            max_ack_pending=self.max_ack_pending,
            workers=self.concurrency,
        )
        self._state, self._detail, self._stopping = "running", None, False
        self._tasks = [
            asyncio.create_task(self._run(sub), name=f"{self.name}-{i}")
            for i, sub in enumerate(self._subs)
        ]

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for sub in self._subs:
            try:
                await sub.unsubscribe()
            except Exception:  # the connection may be gone already
                pass
        self._subs.clear()
        if self._state != "failed":
            self._state = "stopped"

    # ---- the loop ----------------------------------------------------------------------------

    async def _run(self, sub) -> None:
        try:
            await self._loop(sub)
            if not self._stopping:
                raise RuntimeError("the reactor loop ended")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._fail(exc)

    async def _fail(self, error: BaseException) -> None:
        if self._state == "failed" or self._stopping:
            return
        self._state = "failed"
        self._detail = f"stopped working after an unexpected error: {type(error).__name__}: {error}"
        log.error("reactor.loop_died", reactor=self.name, exc_info=error)
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        outcome = self.on_fatal(self.name, error)
        if inspect.isawaitable(outcome):
            await outcome

    async def _loop(self, sub) -> None:
        # Ends on `stop` even if a cancellation is lost: on Python 3.11 `asyncio.wait_for`
        # (under nats-py's fetch) can swallow one that lands as its wait times out.
        while not self._stopping:
            try:
                msgs = await sub.fetch(1, timeout=1.0)
            except (TimeoutError, NatsTimeout):
                self._trouble = None
                continue
            except ConnectionClosedError:
                raise
            except Exception as exc:
                if self.nc.is_closed:
                    raise
                self._trouble = f"cannot fetch work: {exc}"
                log.warning("reactor.fetch_failed", reactor=self.name, error=str(exc))
                await asyncio.sleep(1.0)
                continue
            self._trouble = None
            for msg in msgs:
                await self._handle(msg)

    async def _handle(self, msg) -> None:
        seq = msg.metadata.sequence.stream
        delivered = msg.metadata.num_delivered
        try:
            rec = await to_recorded(
                self.stream, seq, msg.subject, msg.data, msg.headers, self.sealer
            )
        except (UnknownEvent, msgspec.MsgspecError, SecretUnreadable) as exc:
            await self._hold(msg, seq, delivered, exc)
            return
        except Exception as exc:
            if not passing(exc):  # the keyring's database is down: not this event's fault
                raise
            log.warning("reaction.outage", reactor=self.name, seq=seq, error=f"{exc!r}"[:300])
            await self._not_an_attempt(seq)
            await msg.nak(delay=self.outage_retry_s)
            return
        if isinstance(rec.event, ForgottenEvent):
            await msg.ack()  # a forgotten person's event: nothing to do, ever
            return
        spared = await self._non_attempts(seq) if delivered > 1 else 0
        attempt = delivered - spared

        async def progress() -> None:
            await msg.in_progress()

        with (
            bind_request_context(  # what the handler appends or asks names this event as its cause
                tenant=rec.tenant, correlation_id=rec.correlation_id, causation_id=rec.event_id
            ),
            self._tracer.start_as_current_span(
                f"react {rec.type}", context=telemetry.extract(rec.headers)
            ),
        ):
            if attempt > self.max_deliver:
                unfinished = AttemptsExhausted(
                    f"{attempt - 1} earlier attempts at this event never finished"
                )
                await self._give_up(msg, rec, attempt, unfinished, spared)
                return
            try:
                async with self._kept_alive(msg):
                    await self.handler(rec, progress)
            except asyncio.CancelledError:
                await asyncio.shield(self._hand_back(msg, seq))  # stopping: another replica
                raise  # takes it now, and this delivery does not count as an attempt
            except TenantForgotten:  # forgotten meanwhile: nothing of theirs is written again
                log.info("reaction.tenant_forgotten", reactor=self.name, seq=seq, type=rec.type)
                await msg.ack()
                await self._done_with(seq, spared)
                return
            except Exception as exc:
                if passing(exc):  # the database is down or the disk full: not this event's fault
                    log.warning(
                        "reaction.outage", reactor=self.name, seq=seq, error=f"{exc!r}"[:300]
                    )
                    await self._not_an_attempt(seq)
                    await msg.nak(delay=self.outage_retry_s)
                    return
                if attempt >= self.max_deliver:
                    await self._give_up(msg, rec, attempt, exc, spared)
                    return
                log.warning(
                    "reaction.failed",
                    reactor=self.name,
                    seq=seq,
                    attempt=attempt,
                    of=self.max_deliver,
                    exc_info=exc,
                )
                await msg.nak(delay=self._backoff(attempt))
                return
        await msg.ack()
        await self._done_with(seq, spared)

    @contextlib.asynccontextmanager
    async def _kept_alive(self, msg) -> AsyncIterator[None]:
        """While inside, `in_progress` every third of the ack wait: a heartbeat lost on the
        way (its server gone) is followed by the next, well before the wait runs out."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.ack_wait_s / 3)
                with contextlib.suppress(Exception):  # the connection moving to another node
                    await msg.in_progress()

        beating = asyncio.create_task(beat())
        try:
            yield
        finally:
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)

    async def _hold(self, msg, seq: int, delivered: int, error: Exception) -> None:
        """Not ours to read yet: leave it on the queue for a build that can."""
        self._held[seq] = time.monotonic()
        log.warning(
            "reaction.held",
            reactor=self.name,
            seq=seq,
            type=getattr(error, "type", "?"),
            deliveries=delivered,
            error=str(error),
        )
        await self._not_an_attempt(seq)
        await msg.nak(delay=self.hold_s)

    async def _hand_back(self, msg, seq: int) -> None:
        await self._not_an_attempt(seq)
        try:
            await msg.nak()
        except Exception as exc:  # it comes back after the ack wait instead
            log.warning("reaction.not_handed_back", reactor=self.name, seq=seq, error=str(exc))

    async def _not_an_attempt(self, seq: int) -> None:
        try:
            await self._holds.add(seq)
        except Exception as exc:  # then this delivery counts as an attempt after all
            log.warning("reaction.delivery_not_noted", reactor=self.name, seq=seq, error=str(exc))

    async def _non_attempts(self, seq: int) -> int:
        try:
            return await self._holds.spent(seq)
        except Exception as exc:
            log.warning("reaction.holds_unreadable", reactor=self.name, seq=seq, error=str(exc))
            return 0

    async def _give_up(
        self, msg, rec: RecordedEvent, attempt: int, error: BaseException, spared: int
    ) -> None:
        """Decide the failure (`give_up`), then take the event off the queue for good."""
        if self.give_up is not None:
            try:
                await self.give_up(rec, error)
            except Exception as exc:
                if attempt < 2 * self.max_deliver:  # deciding failed too: try again later
                    log.warning("reaction.give_up_failed", reactor=self.name, exc_info=exc)
                    await msg.nak(delay=self._backoff(attempt))
                    return
                log.error("reaction.give_up_abandoned", reactor=self.name, exc_info=exc)
        await msg.term()
        await self._done_with(rec.seq, spared)
        self.parked += 1
        log.error(
            "reaction.parked",
            reactor=self.name,
            seq=rec.seq,
            type=rec.type,
            attempts=attempt,
            error=f"{type(error).__name__}: {error}",
        )

    async def _done_with(self, seq: int, spared: int) -> None:
        self._held.pop(seq, None)
        if spared:
            try:
                await self._holds.forget(seq)
            except Exception as exc:  # a stale count is harmless: the event is done
                log.warning("reaction.count_not_forgotten", reactor=self.name, error=str(exc))

    def _backoff(self, attempt: int) -> float:
        """The wait after failed attempt `attempt` (1, 2, ...): 2 s, 4 s, 8 s ... by default."""
        return min(self.backoff_s * 2.0 ** (attempt - 1), MAX_BACKOFF_S)
