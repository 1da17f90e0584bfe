"""Dataset builds under faults: a build whose service stops mid-way is taken up again and
finished once; an event on the line that nobody can build is decided as failed with a
reason; the projection applies whatever the log holds, replayed or live."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.integration.test_datasets import KEY, ready
from tests.support.api import new_expert, settled, upload
from tests.support.log import log_store
from tests.support.scripted_llm import scripted_model
from tests.support.waiting import until

pytestmark = pytest.mark.integration


def reply(messages: list[dict]) -> str:
    """A question of its own for each passage (named by a digest of the prompt)."""
    digest = hashlib.sha256(messages[-1]["content"].encode()).hexdigest()[:8]
    return json.dumps({"question": f"What does passage {digest} say?", "answer": "Berths."})


async def events_of(nc, dataset_id: str) -> list[str]:
    events, _ = await log_store(nc).load("dataset", "local", "dataset", dataset_id)
    return [rec.type.split(".")[1] for rec in events]


async def test_a_build_whose_service_stops_midway_is_finished_once(api, stack, nc):
    expert = await new_expert(api)
    filler = "Boats come and go with the tide, and the quay is swept every morning. " * 6
    text = "\n\n".join(f"Part {n}. Berth {n} is on the east quay. {filler}" for n in range(4))
    [doc] = (await upload(api, expert["id"], ("berths.txt", text.encode()))).json()["documents"]
    assert (await settled(api, doc["id"]))["status"] == "ready"
    host = stack.hosts["dataset"]
    [builder] = [r for r in host.reactors if r.name == "dataset.build"]

    async with scripted_model(KEY, reply, word_delay_s=0.2) as llm:
        backend = {"kind": "openai", "base_url": llm.url, "model": "paced", "api_key": KEY}
        await api.put(f"/api/experts/{expert['id']}/backend", json=backend)
        sources = {"knowledge": {"questions": 4, "generator": "backend"}}
        started = await api.post(f"/api/experts/{expert['id']}/datasets", json={"sources": sources})
        dataset_id = started.json()["dataset_id"]

        async def writing() -> bool:
            view = (await api.get(f"/api/datasets/{dataset_id}")).json()
            stage = view.get("stage") or ""
            return stage.startswith("writing") and view["progress"]["done"] >= 1

        await until(writing, timeout=60, what="the build to be writing its questions")
        await builder.stop()  # the service stops: the work goes back on the queue
        asked_before = len(llm.requests)
        await builder.start()  # ... and a fresh one takes it up
        view = await ready(api, dataset_id)

    assert view["status"] == "ready", view
    assert view["sources"] == {"knowledge": 4}, view["rejected"]
    assert len(llm.requests) > asked_before  # the build went on after the restart
    assert (await events_of(nc, dataset_id)).count("DatasetBuilt") == 1
    assert builder.health()["state"] == "running"
