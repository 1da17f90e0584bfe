"""One trace spans gateway -> service -> projector, carried by `traceparent` in NATS headers."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.integration


async def test_creating_an_expert_is_one_trace_from_gateway_to_projector(api, spans):
    created = await api.post("/api/experts", json={"name": "Traced"})
    assert created.status_code == 201

    def names_by_trace():
        grouped: dict[int, set[str]] = {}
        for span in spans.get_finished_spans():
            grouped.setdefault(span.context.trace_id, set()).add(span.name)
        return grouped

    for _ in range(100):  # the projector's span ends a moment after the reply
        traces = [names for names in names_by_trace().values() if "cmd.expert.create" in names]
        if traces and "project expert.ExpertCreated" in traces[0]:
            break
        await asyncio.sleep(0.05)
    assert len(traces) == 1, names_by_trace()
    names = traces[0]
    assert "project expert.ExpertCreated" in names
    assert any("/api/experts" in name for name in names), names  # the gateway's server span
