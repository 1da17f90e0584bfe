"""Experts that answer, end to end: the real gateway, services, NATS and Postgres; the model
is either the tiny local Llama the session built or a scripted OpenAI-compatible server.

A multi-page PDF with one fact per page; the scripted model cites the passage holding the
fact and invents a source besides. The citation must name the right page, the invented one
must be removed and counted, the trace must carry it all, feedback must be current and kept,
the score must come, the OpenAI SDK must get the same expert, and the API key must appear
in plain text nowhere.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import httpx
import openai
import pytest

from tests.support.api import new_expert, settled, upload
from tests.support.pdfs import make_pdf
from tests.support.scripted_llm import cite_the_source_containing, scripted_model
from tests.support.views import snapshot
from tests.support.waiting import until

pytestmark = pytest.mark.integration

KEY = "sk-simtune-test-9f8e7d6c5b4a"
FACTS = [
    "The lighthouse keeper logs the tide every morning before breakfast.",
    "The northern harbour of Velmora is guarded by the old Quillmark tower.",
    "Fishing boats return to the southern quay when the bell rings twice.",
]


@pytest.fixture
async def scripted():
    async with scripted_model(KEY, cite_the_source_containing("Quillmark")) as llm:
        yield llm


async def harbour_expert(api: httpx.AsyncClient, name: str) -> tuple[dict, dict]:
    """An expert with a ready three-page PDF, one fact a page; (expert, document)."""
    expert = await new_expert(api, name=name, domain="Velmora's harbour")
    pages = [f"{fact} " + "Filler sentence about the sea. " * 20 for fact in FACTS]
    [doc] = (await upload(api, expert["id"], ("harbour.pdf", make_pdf(pages)))).json()["documents"]
    assert (await settled(api, doc["id"]))["status"] == "ready"
    return expert, doc


async def expert_with_pdf(api: httpx.AsyncClient, name: str = "Harbour guide") -> dict:
    return (await harbour_expert(api, name))[0]


async def use_scripted(api, expert_id: str, llm, key: str = KEY) -> None:
    body = {"kind": "openai", "base_url": llm.url, "model": "scripted", "api_key": key}
    reply = await api.put(f"/api/experts/{expert_id}/backend", json=body)
    assert reply.status_code == 200, reply.text
    assert reply.json()["api_key_set"] is True and "api_key" not in reply.json()


async def scored(api: httpx.AsyncClient, answer_id: str) -> dict:
    """The trace once the scorer has scored it (it scores in the background)."""

    async def with_score() -> dict | None:
        trace = (await api.get(f"/api/answers/{answer_id}")).json()
        return trace if trace.get("score") else None  # 404 until the view has it

    return await until(with_score, timeout=30, what=f"a score for answer {answer_id}")


def sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.replace("\r\n", "\n").strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


async def test_rag_answer_cites_the_right_page_and_drops_an_invented_source(api, scripted):
    expert = await expert_with_pdf(api)
    await use_scripted(api, expert["id"], scripted)

    reply = await api.post(
        f"/api/experts/{expert['id']}/ask", json={"question": "Which tower guards the north?"}
    )
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert answer["mode"] == "rag"
    assert [c["page"] for c in answer["citations"]] == [2]
    assert answer["citations"][0]["filename"] == "harbour.pdf"
    assert answer["removed_citations"] == 1
    assert "[7]" not in answer["answer"] and "old Quillmark tower [1]." in answer["answer"]
    sent = scripted.requests[-1]["messages"]
    assert sent[0]["role"] == "system" and "Harbour guide" in sent[0]["content"]
    assert "Quillmark" in sent[-1]["content"]  # the passage went to the model

    trace = (await api.get(f"/api/answers/{answer['answer_id']}")).json()
    assert trace["question"] == "Which tower guards the north?"
    assert any("Quillmark" in s["text"] for s in trace["sources"])
    assert trace["backend"] == "openai" and trace["model"] == "scripted"


async def test_the_answer_streams_token_by_token_then_done(api, scripted):
    expert = await expert_with_pdf(api)
    await use_scripted(api, expert["id"], scripted)
    reply = await api.post(
        f"/api/experts/{expert['id']}/ask",
        json={"question": "Which tower guards the north?"},
        headers={"Accept": "text/event-stream"},
    )
    assert reply.status_code == 200 and reply.headers["content-type"].startswith(
        "text/event-stream"
    )
    events = sse(reply.text)
    kinds = [e for e, _ in events]
    assert kinds[0] == "sources" and kinds[-1] == "done" and kinds.count("token") >= 5
    streamed = "".join(d["text"] for e, d in events if e == "token")
    assert "[7]" in streamed  # what the model wrote, live
    assert "[7]" not in events[-1][1]["answer"]  # the finished answer is checked


async def test_feedback_is_current_and_kept_and_traces_filter(api, scripted, stack):
    expert = await expert_with_pdf(api)
    await use_scripted(api, expert["id"], scripted)
    ask = f"/api/experts/{expert['id']}/ask"
    first = (await api.post(ask, json={"question": "Which tower guards the north?"})).json()
    await api.post(ask, json={"question": "Tell me about boats", "mode": "closed"})

    url = f"/api/answers/{first['answer_id']}/feedback"
    assert (await api.post(url, json={"rating": 2})).status_code == 201
    better = "The Quillmark tower guards the northern harbour [1]."
    second = await api.post(
        url, json={"rating": 5, "edited_answer": better, "tags": ["towers"], "comment": "good"}
    )
    assert second.status_code == 201, second.text
    feedback = second.json()["feedback"]
    assert feedback["rating"] == 5 and feedback["edited_answer"] == better
    assert feedback["tags"] == ["towers"] and feedback["count"] == 2

    traces = f"/api/experts/{expert['id']}/traces"
    rated = (await api.get(traces, params={"rated": "true"})).json()["traces"]
    assert [t["answer_id"] for t in rated] == [first["answer_id"]]
    closed = (await api.get(traces, params={"mode": "closed"})).json()["traces"]
    assert len(closed) == 1 and closed[0]["question"] == "Tell me about boats"
    page = await api.get(traces, params={"limit": 1})
    assert len(page.json()["traces"]) == 1 and page.headers["x-next-cursor"]
    rest = await api.get(traces, params={"limit": 1, "after": page.headers["x-next-cursor"]})
    assert rest.json()["traces"][0]["answer_id"] != page.json()["traces"][0]["answer_id"]

    bad = await api.post(url, json={"rating": 6})
    assert bad.status_code == 400 and "rating" in bad.json()["detail"]
    missing = await api.post("/api/answers/nope/feedback", json={"rating": 3})
    assert missing.status_code == 404


async def test_every_answer_gets_a_score_with_reasons(api, scripted, stack):
    expert = await expert_with_pdf(api)
    await use_scripted(api, expert["id"], scripted)
    answer = (
        await api.post(
            f"/api/experts/{expert['id']}/ask", json={"question": "Which tower guards the north?"}
        )
    ).json()
    score = (await scored(api, answer["answer_id"]))["score"]
    assert score is not None, "the scorer did not score the answer"
    assert 0 <= score["score"] <= 10 and score["citation_validity"] == 0.5
    assert any("removed" in r for r in score["reasons"])


async def test_the_openai_sdk_talks_to_the_expert(api, scripted, stack):
    name = f"Harbour guide {uuid.uuid4().hex[:6]}"
    expert = await expert_with_pdf(api, name)
    await use_scripted(api, expert["id"], scripted)
    client = openai.AsyncOpenAI(base_url=f"{stack.url}/v1", api_key=stack.owner.key)
    models = [m.id for m in (await client.models.list()).data]
    assert expert["id"] in models

    question = [{"role": "user", "content": "Which tower guards the north?"}]
    done = await client.chat.completions.create(model=expert["id"], messages=question)
    assert "Quillmark" in done.choices[0].message.content
    assert done.usage.completion_tokens > 0 and done.choices[0].finish_reason == "stop"

    pieces, usage = [], None
    stream = await client.chat.completions.create(model=name, messages=question, stream=True)
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        usage = chunk.usage or usage
    assert "Quillmark" in "".join(pieces) and usage.total_tokens > 0

    with pytest.raises(openai.NotFoundError) as missing:
        await client.chat.completions.create(model="no-such-expert", messages=question)
    assert "no expert" in missing.value.body["message"]
    with pytest.raises(openai.BadRequestError):
        await client.chat.completions.create(model=expert["id"], messages=[])


async def test_a_wrong_key_or_a_dead_server_is_one_clear_sentence(api, scripted):
    expert = await new_expert(api, name="Fragile")
    await use_scripted(api, expert["id"], scripted, key="sk-wrong-key-123")
    ask = f"/api/experts/{expert['id']}/ask"
    wrong = await api.post(ask, json={"question": "Hello?", "mode": "closed"})
    assert wrong.status_code == 502
    assert "API key" in wrong.json()["detail"] and "sk-wrong" not in wrong.text
    test = (await api.post(f"/api/experts/{expert['id']}/backend/test")).json()
    assert test["ok"] is False and "API key" in test["detail"]

    dead = {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "x", "timeout_s": 2}
    await api.put(f"/api/experts/{expert['id']}/backend", json=dead)
    unreachable = await api.post(ask, json={"question": "Hello?", "mode": "closed"})
    assert unreachable.status_code == 502 and "reach" in unreachable.json()["detail"]

    # The expert is still usable: back to the local model.
    await api.put(f"/api/experts/{expert['id']}/backend", json={"kind": "local"})
    local = await api.post(ask, json={"question": "Hello?", "mode": "closed", "max_tokens": 8})
    assert local.status_code == 200, local.text
    assert local.json()["backend"] == "local" and local.json()["completion_tokens"] <= 8


async def test_a_banned_topic_is_refused_and_still_a_trace(api):
    expert = await new_expert(api, name="Careful", banned_topics=["medical advice"])
    reply = await api.post(
        f"/api/experts/{expert['id']}/ask", json={"question": "Can you give me medical advice?"}
    )
    assert reply.status_code == 200
    assert reply.json()["refused"] and reply.json()["answer"] == reply.json()["refused"]
    traces = (await api.get(f"/api/experts/{expert['id']}/traces")).json()["traces"]
    assert traces[0]["refused"]


async def test_the_api_key_is_plain_text_nowhere(api, scripted, stack):
    expert = await expert_with_pdf(api)
    await use_scripted(api, expert["id"], scripted)
    await api.post(f"/api/experts/{expert['id']}/ask", json={"question": "Which tower?"})
    shown = await api.get(f"/api/experts/{expert['id']}/backend")
    assert KEY not in shown.text and shown.json()["api_key_set"] is True
    assert KEY not in (await api.get(f"/api/experts/{expert['id']}")).text

    home = Path(stack.settings.home)
    found = [p for p in home.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert found == []
    assert re.search(r"[0-7]00$", oct((home / "secret.key").stat().st_mode))


async def test_rebuilt_answer_views_equal_live(api, scripted, stack):
    expert = await expert_with_pdf(api)
    await use_scripted(api, expert["id"], scripted)
    answer = (
        await api.post(f"/api/experts/{expert['id']}/ask", json={"question": "Which tower?"})
    ).json()
    await api.post(f"/api/answers/{answer['answer_id']}/feedback", json={"rating": 4})
    await scored(api, answer["answer_id"])
    host = stack.hosts["expert"]
    await host.wait_caught_up()
    live = await snapshot(host)
    await host.rebuild()
    assert await snapshot(host) == live


async def test_a_reader_who_goes_away_stops_the_model(api, stack):
    talkative = scripted_model(KEY, lambda messages: "word " * 200, word_delay_s=0.05)
    async with talkative as llm:
        expert = await new_expert(api, name="Chatty")
        await use_scripted(api, expert["id"], llm)
        body = {"question": "Talk to me", "mode": "closed"}
        headers = {"Accept": "text/event-stream"}
        async with api.stream(
            "POST", f"/api/experts/{expert['id']}/ask", json=body, headers=headers
        ) as reply:
            async for line in reply.aiter_lines():
                if line.startswith("event: token"):
                    break  # the reader leaves after the first word
        # The expert let go of the model's answer: the model heard its client hang up and
        # stopped writing before the end of its 200 words.
        await until(lambda: llm.hung_up == 1, what="the model to hear the expert hang up")
    traces = (await api.get(f"/api/experts/{expert['id']}/traces")).json()["traces"]
    assert traces == []  # nobody read an answer, so none is recorded


INVENTED = "Ships must pay a toll of three silver coins to enter the harbour [1]."


@pytest.fixture
async def straying():
    """A model that answers beside its sources, citing [1] for a claim no passage makes."""
    async with scripted_model(KEY, lambda messages: INVENTED) as llm:
        yield llm


async def test_a_straying_answer_is_led_by_a_cited_quote_and_its_claim_is_flagged(api, straying):
    expert = await expert_with_pdf(api, "Harbour guide (quotes)")
    await use_scripted(api, expert["id"], straying)
    question = {"question": "Which tower guards the northern harbour?"}

    answer = (await api.post(f"/api/experts/{expert['id']}/ask", json=question)).json()

    quote, *said = answer["claims"]
    assert quote["origin"] == "documents" and quote["support"] == "supported"
    assert "Quillmark tower" in quote["text"]
    [cited] = [c for c in answer["citations"] if c["n"] == quote["citations"][0]]
    assert cited["page"] == 2  # the quote opens the PDF at the page it comes from
    assert [(c["origin"], c["support"], c["citations"]) for c in said] == [
        ("model", "unsupported", [])  # the toll is nowhere in the sources: flagged, uncited
    ]
    assert answer["answer"].startswith("From your documents:\n> ")
    assert "three silver coins to enter the harbour." in answer["answer"]  # its [1] is gone
    trace = (await api.get(f"/api/answers/{answer['answer_id']}")).json()
    assert trace["claims"] == answer["claims"]

    off = await api.patch(f"/api/experts/{expert['id']}", json={"quote_sources": "never"})
    assert off.status_code == 200 and off.json()["quote_sources"] == "never"
    plain = (await api.post(f"/api/experts/{expert['id']}/ask", json=question)).json()
    assert [c["origin"] for c in plain["claims"]] == ["model"]
    assert plain["claims"][0]["support"] == "unsupported" and plain["citations"] == []
    assert plain["answer"] == "Ships must pay a toll of three silver coins to enter the harbour."


async def test_an_unknown_quote_setting_is_refused_with_the_choices(api):
    expert = await new_expert(api, name="Harbour guide (setting)")
    reply = await api.patch(f"/api/experts/{expert['id']}", json={"quote_sources": "sometimes"})
    assert reply.status_code == 400
    assert "quote_sources" in reply.json()["detail"]
