"""Live pages whose announcements never come: a replica killed between its commit and its
announcement (plain NATS) loses one, and nothing may follow to bring the change. In each
quiet spell a run's progress stream and an expert's documents table read their view again,
so a run that ended is shown ended and a document that became ready is shown ready.

Each test follows through a gateway `Backend` whose event hub never subscribed: every
announcement is lost to it. The services, NATS and Postgres are the real ones.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from contracts.accounts import Whois
from contracts.expert import GetExpert
from contracts.trainer import STREAM as TRAINER
from contracts.trainer import GetRun
from gateway.backend import Backend
from gateway.http.templating import environment, template_config
from gateway.ingest import pages
from gateway.sse import follow
from gateway.sse.hub import EventHub
from runtime.rpc import ask
from tests.integration.test_events_sse import new_expert, upload
from tests.integration.test_finetune_api import LONG, dataset, running, start

pytestmark = pytest.mark.integration

QUIET_S = 0.3  # the keep-alive interval of these tests (15 s in use)


@pytest.fixture
async def deaf(stack, nc, monkeypatch) -> Backend:
    """The owner's backend, with a hub that hears no announcement, and short quiet spells."""
    monkeypatch.setattr(follow, "KEEPALIVE_S", QUIET_S)
    monkeypatch.setattr(pages, "KEEPALIVE_S", QUIET_S)
    principal = await ask(nc, Whois(credential=stack.owner.key))
    return Backend(nc, stack.settings, EventHub(nc)).acting_for(principal)


async def test_a_run_that_ended_unannounced_is_shown_ended(api, deaf):
    expert = await new_expert(api)
    started = await start(api, expert, await dataset(api, expert), config=LONG)
    run_id = started.json()["run_id"]
    await running(api, run_id)

    events = follow.run_events(deaf, TRAINER, GetRun, run_id)
    first = json.loads((await anext(events)).data)
    assert first["status"] == "running"
    cancelled = await api.delete(f"/api/finetune/{run_id}")
    assert cancelled.status_code == 200, cancelled.text

    seen = []
    async with asyncio.timeout(30):
        async for message in events:  # ends once the run has
            seen.append(json.loads(message.data) if message.data else message.comment)
    assert seen[-1]["status"] == "cancelled", seen
    assert "keep-alive" in seen  # it came in a quiet spell, not with an announcement


async def test_a_document_ready_unannounced_is_shown_ready(api, deaf):
    expert_id = await new_expert(api)
    expert = await deaf.ask(GetExpert(expert_id=expert_id))
    env = environment()
    template_config(env)  # its template callables, as the app's
    tables = pages.table_updates(deaf, env, expert)
    assert "No documents yet" in (await anext(tables)).data
    await upload(api, expert_id, "unannounced.txt")

    sent, quiet = [], 0
    async with asyncio.timeout(90):
        async for message in tables:
            if message.data is None:
                quiet += 1
                continue
            sent.append(message.data)
            if 'data-status="ready"' in message.data:
                break
    assert "unannounced.txt" in sent[-1] and "Ready" in sent[-1]
    # the same table is not sent again at each look: each one sent differs from the last
    assert all(a != b for a, b in zip(sent, sent[1:], strict=False)) and quiet >= len(sent)
