"""The id a contract is about, declared once for every context that keys by it.

Most commands, queries and events are about one thing: one expert (its bench, its line of
datasets, its fine-tuning settings, its versions) or one run (a fine-tune's or a
benchmark's). That id is the aggregate a service loads and the key its read models are
found by, and it comes first in each message. Declaring it here keeps its name and its
rule (`Token`) the same in every context: a new message about an expert cannot spell it
`expertId` or let an empty one through.

A `...Fact` is an event base (`contracts.expert.ExpertEvent` already names the expert
context's own events). The bases are untagged (`tag=False`): they never travel on their
own, and whatever walks the contracts for tagged classes passes over them to their
subclasses. They are keyword-only, as every subclass is, so the id stands on the wire
where it always stood: after the base's own fields (`tenant`, `after_seq`) and before the
subclass's. Contexts declare the ids only they key by (a dataset, an adapter, a user, an
answer, a document's revision) beside their own messages, the same way.
"""

from __future__ import annotations

from contracts.base import Command, Event, Query, Reply
from contracts.rules import Token


class ExpertCommand(Command, frozen=True, kw_only=True, tag=False):
    """A command about one expert."""

    expert_id: Token


class ExpertQuery(Query, frozen=True, kw_only=True, tag=False):
    """A query about one expert."""

    expert_id: Token


class ExpertFact(Event, frozen=True, kw_only=True, tag=False):
    """An event on an aggregate the expert's id keys: its bench, its line of datasets or
    runs, its fine-tuning settings, its model backend, its versions. Each context's record of a deleted expert
    (`DatasetsErased`, `RunsErased`, `BenchErased`, `VersionsErased`) is one of these."""

    expert_id: Token


class RunCommand(Command, frozen=True, kw_only=True, tag=False):
    """A command about one run, a fine-tune's or a benchmark's."""

    run_id: Token


class RunQuery(Query, frozen=True, kw_only=True, tag=False):
    """A query about one run, a fine-tune's or a benchmark's."""

    run_id: Token


class RunFact(Event, frozen=True, kw_only=True, tag=False):
    """An event on one run, a fine-tune's or a benchmark's: the run is the aggregate. An
    event that opens a run (queued) names its expert next, so the expert's views of its
    runs need no lookup."""

    run_id: Token


class AcceptedRun(Reply, frozen=True, kw_only=True):
    """What a command that queues a run answers: the new run's id, and the sequence of the
    event that queued it (a query's `after_seq` to read the run back at once)."""

    run_id: str
    seq: int
