"""A run while it trains: what a backend (local or hosted) is handed.

`RunContext` puts the run on the log as it goes — `RunStarted` (with its attempt, and the
step it resumed from), throttled `RunProgressed`, then what the backend appends — keeps the
work-queue message alive, and sees a cancel within `CANCEL_POLL_S`. A backend that cannot
succeed raises `RunFailure` with the sentence a person reads.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Awaitable, Callable

from contracts.trainer import LossPoint, RunProgressed, RunStarted
from runtime.cancellable import Cancelled, unless_cancelled
from runtime.eventstore import RecordedEvent, derived_id
from runtime.reactor import Progress
from runtime.service import ServiceHost
from services.trainer import domain
from services.trainer.aggregates import RUNS

TICK_S = 1.0  # progress goes on the log at most this often (an evaluation at once)
CANCEL_POLL_S = 0.5
HEARTBEAT_S = 5.0  # the work queue hears from a run at least this often (or thrice an ack wait)
MAX_POINTS = 500  # loss points one progress event carries


class RunFailure(Exception):
    """The run cannot succeed; `reason` is the sentence a person reads."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


RACES = 3  # a run's own progress beside a cancel or a deadline from outside


class RunContext:
    """What a backend needs while it trains one run: its event, the log, a cancel check,
    and progress that is throttled and keeps the work-queue message alive."""

    def __init__(self, host: ServiceHost, rec: RecordedEvent, progress: Progress) -> None:
        self.host, self.rec, self.ev = host, rec, rec.event
        self.tenant, self.run_id = rec.tenant, rec.event.run_id
        self._progress = progress
        self._last_tick = 0.0
        self.started = time.monotonic()
        self.started_step = 0
        self.state = domain.RUN
        self.worker = f"{socket.gethostname()}"
        self._points: list[LossPoint] = []  # losses not yet on the log

    async def load(self) -> domain.RunState:
        self.state, _ = await RUNS.load(self.host.store, self.tenant, self.run_id)
        return self.state

    async def append(self, event, key: str | None = None) -> bool:
        """Append `event` to the run while it is going; False when it has ended."""
        event_id = derived_id(self.rec.event_id, key) if key else None
        outcome = await RUNS.execute(
            self.host.store,
            self.tenant,
            self.run_id,
            lambda s: domain.decide_going(s, event),
            event_id=event_id,
            races=RACES,  # a cancel appended meanwhile: decided again, and refused as ended
        )
        self.state = outcome.state
        return outcome.event is not None

    async def begin(self, resumed_from_step: int) -> int:
        """Note the attempt on the log; returns its number."""
        state = await self.load()
        attempt = state.attempts + 1
        started = RunStarted(
            run_id=self.run_id,
            attempt=attempt,
            worker=self.worker[:200],
            resumed_from_step=resumed_from_step,
        )
        if not await self.append(started):
            raise Cancelled
        self.started, self.started_step = time.monotonic(), resumed_from_step
        return attempt

    async def heartbeat(self) -> None:
        await self._progress()

    async def cancelled(self) -> bool:
        """A person cancelled the run, or deleted their data meanwhile (nothing of theirs
        may go on training)."""
        if await self.host.keyring.is_forgotten(self.tenant):
            return True
        return (await self.load()).status == "cancelled"

    async def report(
        self,
        step: int,
        total: int,
        *,
        loss=None,
        eval_loss=None,
        learning_rate=None,
        epoch=None,
        stage: str = "",
        force: bool = False,
    ) -> None:
        now = time.monotonic()
        if loss is not None or eval_loss is not None:
            self._points.append(LossPoint(step=step, loss=loss, eval_loss=eval_loss))
        if not force and eval_loss is None and step < total and now - self._last_tick < TICK_S:
            return
        self._last_tick = now
        await self._progress()
        done = step - self.started_step
        eta = None
        if done > 0 and total >= step:
            eta = int((now - self.started) / done * (total - step))
        event = RunProgressed(
            run_id=self.run_id,
            step=step,
            total_steps=total,
            loss=loss,
            eval_loss=eval_loss,
            learning_rate=learning_rate,
            epoch=epoch,
            eta_seconds=eta,
            stage=stage[:100],
            points=self._points[-MAX_POINTS:],
        )
        self._points = []
        if not await self.append(event):
            raise Cancelled

    async def watch_cancel(self, work: Awaitable) -> object:
        """`work`'s result, or Cancelled as soon as a person cancels; the work queue hears
        from the run at least three times an ack wait meanwhile."""
        every = max(CANCEL_POLL_S, min(HEARTBEAT_S, self.host.settings.work_ack_wait_s / 3))
        return await unless_cancelled(
            work, self.cancelled, poll_s=CANCEL_POLL_S, beat=self._progress, beat_s=every
        )


Backend = Callable[[RunContext], Awaitable[None]]
