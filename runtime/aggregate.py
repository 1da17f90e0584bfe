"""Load an aggregate from its events, decide, append: the command-handling loop.

Aggregates stay pure (`evolve(state, event) -> state`, `decide(state) -> event | None`);
this module is the only I/O around them. The append carries the sequence the decision was
made on, so a concurrent change turns into ConcurrencyError instead of a lost update.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from runtime.eventstore import ConcurrencyError, EventStore
from runtime.sealing import ForgottenEvent

S = TypeVar("S")
CACHED = 2048  # aggregates whose latest state each process keeps, least recently used out


@dataclass(frozen=True)
class Outcome(Generic[S]):
    state: S  # the state after the new event (or unchanged when nothing was decided)
    event: object | None
    seq: int  # stream sequence of the new event, or of the last one when nothing changed


@dataclass(frozen=True)
class AggregateType(Generic[S]):
    context: str
    name: str
    initial: S
    evolve: Callable[[S, object], S]
    # (store, tenant, id) -> (state, the sequence it was folded to). States are immutable and
    # the log only grows, so a load folds in just the events appended since: an aggregate of
    # a thousand events costs its new ones, not a thousand reads, on every command.
    _states: OrderedDict = field(default_factory=OrderedDict, compare=False, repr=False)

    async def load(self, store: EventStore, tenant: str, aggregate_id: str) -> tuple[S, int]:
        key = (store.key, tenant, aggregate_id)
        state, after = self._states.get(key, (self.initial, 0))
        events, last_seq = await store.load(
            self.context, tenant, self.name, aggregate_id, after=after
        )
        for rec in events:
            if not isinstance(rec.event, ForgottenEvent):  # a forgotten tenant's: nothing left
                state = self.evolve(state, rec.event)
        self._remember(key, state, last_seq)
        return state, last_seq

    def _remember(self, key: tuple, state: S, seq: int) -> None:
        self._states[key] = (state, seq)
        self._states.move_to_end(key)
        while len(self._states) > CACHED:
            self._states.popitem(last=False)

    async def execute(
        self,
        store: EventStore,
        tenant: str,
        aggregate_id: str,
        decide: Callable[[S], object | None],
        *,
        event_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        races: int = 0,
    ) -> Outcome[S]:
        """Decide and append. With `races` > 0 a decision that lost the race to another
        append is made again on the fresh state, up to that many times (for commands that
        hold whatever happened meanwhile, such as a cancel beside a run's progress); the
        decision itself still refuses what no longer holds."""
        for attempt in range(races + 1):
            try:
                return await self._execute_once(
                    store, tenant, aggregate_id, decide, event_id, correlation_id, causation_id
                )
            except ConcurrencyError:
                if attempt == races:
                    raise
                await asyncio.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _execute_once(
        self, store, tenant, aggregate_id, decide, event_id, correlation_id, causation_id
    ) -> Outcome[S]:
        state, last_seq = await self.load(store, tenant, aggregate_id)
        event = decide(state)
        if event is None:
            return Outcome(state=state, event=None, seq=last_seq)
        seq = await store.append(
            self.context,
            tenant,
            self.name,
            aggregate_id,
            event,
            expected_seq=last_seq,
            event_id=event_id,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        state = self.evolve(state, event)
        self._remember((store.key, tenant, aggregate_id), state, seq)
        return Outcome(state=state, event=event, seq=seq)
