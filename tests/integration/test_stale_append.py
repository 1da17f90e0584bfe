"""Optimistic concurrency on the real log: a decision made on an old state is refused."""

from __future__ import annotations

import uuid

import pytest

from contracts.expert import ExpertCreated, ExpertDeleted, ExpertUpdated, Profile, ProfilePatch
from runtime.eventstore import ConcurrencyError, EventStore

pytestmark = pytest.mark.integration


async def test_an_append_with_a_stale_expected_sequence_raises_and_writes_nothing(services, nc):
    store = EventStore(nc.jetstream())
    expert_id = uuid.uuid4().hex[:12]

    def append(event, expected_seq):
        return store.append(
            "expert", "local", "expert", expert_id, event, expected_seq=expected_seq
        )

    created = await append(ExpertCreated(expert_id=expert_id, profile=Profile(name="A")), 0)
    renamed = await append(
        ExpertUpdated(expert_id=expert_id, changes=ProfilePatch(name="B")), created
    )
    with pytest.raises(ConcurrencyError, match="changed by someone else"):
        await append(ExpertDeleted(expert_id=expert_id), created)  # decided before the rename
    with pytest.raises(ConcurrencyError):
        await append(ExpertCreated(expert_id=expert_id, profile=Profile(name="C")), 0)

    events, last = await store.load("expert", "local", "expert", expert_id)
    assert [rec.type for rec in events] == ["expert.ExpertCreated", "expert.ExpertUpdated"]
    assert last == renamed
    assert await append(ExpertDeleted(expert_id=expert_id), renamed) > renamed
