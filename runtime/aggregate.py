"""Load an aggregate from its events, decide, append: the command-handling loop.

Aggregates stay pure (`evolve(state, event) -> state`, `decide(state) -> event | None`);
this module is the only I/O around them. The append carries the sequence the decision was
made on, so a concurrent change turns into ConcurrencyError instead of a lost update.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from runtime.eventstore import EventStore

S = TypeVar("S")


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

    async def load(self, store: EventStore, tenant: str, aggregate_id: str) -> tuple[S, int]:
        events, last_seq = await store.load(self.context, tenant, self.name, aggregate_id)
        state = self.initial
        for rec in events:
            state = self.evolve(state, rec.event)
        return state, last_seq

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
        return Outcome(state=self.evolve(state, event), event=event, seq=seq)
