"""Datasets end to end: the real gateway, services, NATS and Postgres; answers come from a
scripted model server or the session's tiny local model, and token counts from its
tokenizer.

Each source on its own, the rules' rejections with their reasons, versions that edits
leave intact, exports that parse, a bad manual line named, a failing or cancelled build
that says so, and the projection rebuilt from the log equal to the live one.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from contracts.prompting import NOT_COVERED, question_in
from runtime.consumers import durable_name
from tests.support.api import new_expert, settled, upload
from tests.support.pdfs import make_pdf
from tests.support.scripted_llm import cite_the_source_containing, scripted_model
from tests.support.views import snapshot
from tests.support.waiting import until

pytestmark = pytest.mark.integration

KEY = "sk-datasets-1f2e3d"
PAGES = [
    "Tides\nA tide is the regular rise and fall of the sea caused by the pull of the moon."
    " Spring tides happen twice a month, near the new and the full moon.",
    "Harbour lights\nThe Quillmark light flashes green every 4 seconds and can be seen from"
    " 12 nautical miles. It was built in 1887 by the harbour board of Velmora.",
    "Moorings\nA mooring is a permanent anchor on the sea bed that a boat ties to. Fees are"
    " paid to the harbour master every April.",
]


async def ready(api: httpx.AsyncClient, dataset_id: str, timeout: float = 120.0) -> dict:
    for _ in range(int(timeout / 0.2)):
        view = (await api.get(f"/api/datasets/{dataset_id}")).json()
        if view["status"] != "building":
            return view
        await asyncio.sleep(0.2)
    raise AssertionError(f"dataset {dataset_id} still building: {view}")


async def build(api, expert_id: str, **body) -> dict:
    reply = await api.post(f"/api/experts/{expert_id}/datasets", json=body)
    assert reply.status_code == 202, reply.text
    return await ready(api, reply.json()["dataset_id"])


async def examples(api, dataset_id: str, **params) -> list[dict]:
    page = await api.get(f"/api/datasets/{dataset_id}/examples", params={"limit": 500, **params})
    assert page.status_code == 200, page.text
    return page.json()["examples"]


@pytest.fixture
async def harbour(api) -> dict:
    expert = await new_expert(api, domain="Velmora's harbour", banned_topics=["smuggling"])
    [doc] = (await upload(api, expert["id"], ("harbour.pdf", make_pdf(PAGES)))).json()["documents"]
    assert (await settled(api, doc["id"]))["status"] == "ready"
    return expert


async def test_the_documents_become_grounded_examples_offline(api, harbour):
    # "offline": the session's tiny local model is no bundled model, so "auto" would ask it
    offline = {"knowledge": {"questions": 12, "generator": "offline"}}
    view = await build(api, harbour["id"], sources=offline, seed=7)
    assert view["status"] == "ready", view
    assert view["sources"]["knowledge"] == view["train_examples"] + view["val_examples"] > 0
    assert view["ready_for_training"] is False and view["min_examples"] == 50

    found = await examples(api, view["id"])
    passages = "\n".join(PAGES).replace("\n", " ")
    for example in found:
        roles = [m["role"] for m in example["messages"]]
        assert roles == ["system", "user", "assistant"]
        user, answer = example["messages"][1]["content"], example["messages"][2]["content"]
        assert user.startswith("Sources:\n\n[1] (harbour.pdf, page ")  # as the live prompt
        assert example["provenance"]["filename"] == "harbour.pdf"
        if not example["citations"]:
            assert answer == NOT_COVERED
            continue
        [cited] = example["citations"]
        assert answer.endswith(f" [{cited['n']}]")
        assert f"[{cited['n']}] (harbour.pdf, page {cited['page']})" in user
        said = answer.removesuffix(f"[{cited['n']}]").strip()
        assert said in passages, said  # the offline generator only repeats the documents
        assert cited["page"] == example["provenance"]["page"]
    pages = {e["provenance"]["page"] for e in found}
    assert pages >= {1, 2}, pages

    again = await build(api, harbour["id"], sources=offline, seed=7)
    assert again["sha256"] == view["sha256"] and again["version"] == view["version"] + 1
    by_chunk: dict[str, set[str]] = {}
    for example in found:
        by_chunk.setdefault(example["provenance"]["chunk_id"], set()).add(example["split"])
    assert all(len(sides) == 1 for sides in by_chunk.values())  # no passage on both sides


async def test_good_answers_and_edits_become_examples_and_preference_pairs(api, harbour):
    async with scripted_model(KEY, cite_the_source_containing("Quillmark")) as llm:
        body = {"kind": "openai", "base_url": llm.url, "model": "scripted", "api_key": KEY}
        assert (await api.put(f"/api/experts/{harbour['id']}/backend", json=body)).is_success
        ask = f"/api/experts/{harbour['id']}/ask"
        good = (await api.post(ask, json={"question": "Which light is green?"})).json()
        edited = (await api.post(ask, json={"question": "Who built the light?"})).json()
        plain = (await api.post(ask, json={"question": "What is a mooring?"})).json()
    await api.post(f"/api/answers/{good['answer_id']}/feedback", json={"rating": 5})
    better = "The harbour board of Velmora built it in 1887 [1]."
    await api.post(
        f"/api/answers/{edited['answer_id']}/feedback",
        json={"rating": 2, "edited_answer": better},
    )
    await api.post(f"/api/answers/{plain['answer_id']}/feedback", json={"rating": 1})

    sources = {"traces": {"min_quality": 10.0, "min_rating": 4}, "feedback": True}
    view = await build(api, harbour["id"], sources=sources)
    assert view["sources"] == {"feedback": 1, "traces": 1}, view
    found = {e["source"]: e for e in await examples(api, view["id"])}
    assert found["traces"]["provenance"]["answer_id"] == good["answer_id"]
    assert found["feedback"]["messages"][2]["content"] == better
    assert found["feedback"]["rejected"] == edited["answer"]

    split = found["feedback"]["split"]
    pairs = await api.get(
        f"/api/datasets/{view['id']}/export", params={"format": "preference", "split": split}
    )
    [line] = [json.loads(line) for line in pairs.text.splitlines()]
    assert (line["chosen"], line["rejected"]) == (better, edited["answer"])
    # asked with the passages its [n] point at, numbered as the answer's prompt numbered them
    assert question_in(line["prompt"]) == "Who built the light?"
    for source in edited["citations"]:
        assert f"[{source['n']}] (harbour.pdf, page {source['page']})" in line["prompt"]


async def test_the_rules_reject_with_reasons(api, harbour):
    manual = [
        {"question": "What is a tide?", "answer": "The rise and fall of the sea."},
        {"question": "  what is a TIDE? ", "answer": "Duplicate, said differently."},
        {"question": "Where is smuggling done?", "answer": "Nowhere we talk about."},
        {"question": "Tell me everything.", "answer": "word " * 3000},
        {"question": "Who pays mooring fees?", "answer": "Boat owners, every April."},
    ]
    view = await build(api, harbour["id"], sources={"manual": manual}, max_examples=1, seed=3)
    assert view["rejected"] == {
        "duplicate": 1,
        "banned_topic": 1,
        "too_long": 1,
        "over_cap": 1,
    }, view
    assert view["train_examples"] + view["val_examples"] == 1
    reasons = (await api.get(f"/api/datasets/{view['id']}/rejections")).json()["rejections"]
    long = next(r for r in reasons if r["code"] == "too_long")
    assert "tokens" in long["detail"] and long["question"] == "Tell me everything."


async def test_a_bad_manual_line_is_named_and_nothing_is_built(api, harbour):
    before = (await api.get(f"/api/experts/{harbour['id']}/datasets")).json()
    jsonl = '{"question": "Fine?", "answer": "Yes."}\n{"question": "No answer?"}\n'
    reply = await api.post(
        f"/api/experts/{harbour['id']}/datasets",
        json={"sources": {}, "manual_jsonl": jsonl},
    )
    assert reply.status_code == 400 and "line 2" in reply.json()["detail"], reply.text
    assert (await api.get(f"/api/experts/{harbour['id']}/datasets")).json() == before


async def test_edits_make_new_versions_and_leave_the_old_ones_alone(api, harbour):
    manual = [
        {"question": f"Question {n} about the harbour?", "answer": f"Answer number {n}."}
        for n in range(6)
    ]
    first = await build(api, harbour["id"], sources={"manual": manual})
    original = await examples(api, first["id"])
    target = original[0]

    edited = await api.patch(
        f"/api/datasets/{first['id']}/examples/{target['id']}",
        json={"answer": "A better answer."},
    )
    assert edited.status_code == 200, edited.text
    second = edited.json()
    assert second["version"] == first["version"] + 1 and second["parent"] == first["id"]
    changed = {e["id"]: e for e in await examples(api, second["id"])}
    assert changed[target["id"]]["messages"][2]["content"] == "A better answer."
    assert await examples(api, first["id"]) == original  # the old version is intact

    removed = (await api.delete(f"/api/datasets/{second['id']}/examples/{target['id']}")).json()
    assert removed["train_examples"] + removed["val_examples"] == len(original) - 1
    added = await api.post(
        f"/api/datasets/{removed['id']}/examples",
        json={"question": "Is the harbour open at night?", "answer": "Yes, with a pilot."},
    )
    assert added.status_code == 201, added.text
    assert added.json()["sources"] == {"manual": len(original)}

    empty = await api.patch(
        f"/api/datasets/{first['id']}/examples/{target['id']}", json={"answer": " "}
    )
    assert empty.status_code == 400
    missing = await api.patch(f"/api/datasets/{first['id']}/examples/nope", json={"answer": "x"})
    assert missing.status_code == 404


async def test_exports_parse_in_every_format(api, harbour):
    manual = [
        {"question": f"Where is berth {n}?", "answer": f"Berth {n} is on the east quay."}
        for n in range(20)
    ]
    view = await build(api, harbour["id"], sources={"manual": manual})
    total = 0
    for split in ("train", "val"):
        chat = await api.get(f"/api/datasets/{view['id']}/export", params={"split": split})
        assert chat.status_code == 200 and "attachment" in chat.headers["content-disposition"]
        rows = [json.loads(line) for line in chat.text.splitlines()]
        assert all([m["role"] for m in r["messages"]][-2:] == ["user", "assistant"] for r in rows)
        alpaca = await api.get(
            f"/api/datasets/{view['id']}/export", params={"format": "alpaca", "split": split}
        )
        instructions = [json.loads(line) for line in alpaca.text.splitlines()]
        assert all(set(r) == {"instruction", "input", "output"} for r in instructions)
        assert len(instructions) == len(rows)
        total += len(rows)
    assert total == 20 and view["val_examples"] >= 1


async def test_a_build_that_cannot_work_fails_clearly_and_one_can_be_cancelled(api, harbour, nc):
    dead = {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "x", "timeout_s": 2}
    await api.put(f"/api/experts/{harbour['id']}/backend", json=dead)
    sources = {"knowledge": {"questions": 3, "generator": "backend"}}
    failed = await build(api, harbour["id"], sources=sources)
    assert failed["status"] == "failed" and "could not" in failed["reason"], failed

    async with scripted_model(KEY, lambda m: '{"question": "Q?", "answer": "A."}') as llm:
        llm.delay_s = 120.0  # a slow model: the cancel must not wait for it
        slow = {"kind": "openai", "base_url": llm.url, "model": "slow", "api_key": KEY}
        await api.put(f"/api/experts/{harbour['id']}/backend", json=slow)
        started = await api.post(
            f"/api/experts/{harbour['id']}/datasets",
            json={"sources": {"knowledge": {"questions": 3, "generator": "backend"}}},
        )
        dataset_id = started.json()["dataset_id"]
        await until(lambda: llm.requests, what="the build to ask the model")
        cancelled = await api.post(f"/api/datasets/{dataset_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        view = await ready(api, dataset_id)
        assert view["status"] == "cancelled"
        # The build let go of its work without waiting for the model to answer.
        durable = durable_name("react", "dataset.build")

        async def let_go() -> bool:
            info = await nc.jetstream().consumer_info("DATASET", durable)
            return info.num_ack_pending == 0

        await until(let_go, timeout=60, what="the cancelled build to let go of its work")
        assert llm.replied == 0, "the cancelled build waited for the model"
    again = await api.post(f"/api/datasets/{dataset_id}/cancel")
    assert again.status_code in (200, 409)


async def test_rebuilt_dataset_views_equal_live(api, harbour, stack):
    manual = [{"question": "What is a quay?", "answer": "A landing place for boats."}]
    view = await build(api, harbour["id"], sources={"manual": manual})
    found = await examples(api, view["id"])
    await api.patch(f"/api/datasets/{view['id']}/examples/{found[0]['id']}", json={"tags": ["x"]})
    host = stack.hosts["dataset"]
    await host.wait_caught_up()
    live = await snapshot(host)
    await host.rebuild()
    assert await snapshot(host) == live


async def test_unknown_experts_and_datasets_are_404(api):
    reply = await api.post("/api/experts/nobody/datasets", json={"sources": {"feedback": True}})
    assert reply.status_code == 404
    assert (await api.get("/api/datasets/nothing")).status_code == 404
    empty = await new_expert(api)
    none = await api.post(f"/api/experts/{empty['id']}/datasets", json={"sources": {}})
    assert none.status_code == 400 and "source" in none.json()["detail"]


async def test_two_edits_from_one_page_both_land_and_a_stale_one_is_refused(api, harbour):
    manual = [{"question": f"Harbour question {n}?", "answer": f"Reply {n}."} for n in range(6)]
    page = await build(api, harbour["id"], sources={"manual": manual})  # the review page's version
    first, second = (await examples(api, page["id"]))[:2]

    def patch(example: dict, answer: str):
        url = f"/api/datasets/{page['id']}/examples/{example['id']}"
        return api.patch(url, json={"answer": answer})

    one = await patch(first, "First fix.")
    assert one.status_code == 200, one.text
    two = await patch(second, "Second fix.")  # from the same page, which now shows an old version
    assert two.status_code == 200, two.text
    assert two.json()["parent"] == one.json()["id"]  # it went on from the first edit
    both = {e["id"]: e["messages"][2]["content"] for e in await examples(api, two.json()["id"])}
    assert both[first["id"]] == "First fix." and both[second["id"]] == "Second fix."

    listed = f"/api/experts/{harbour['id']}/datasets"
    before = [v["id"] for v in (await api.get(listed)).json()]
    stale = await patch(first, "An edit of what the page showed before the first fix.")
    assert stale.status_code == 409, stale.text
    assert "newer version" in stale.json()["detail"]
    assert [v["id"] for v in (await api.get(listed)).json()] == before  # no version was made
