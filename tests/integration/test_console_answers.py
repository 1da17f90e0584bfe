"""The console's answering pages over HTTP, against the real gateway and services: the chat
page (and its no-JavaScript form), an answer's card with its feedback form, the traces page
with its filters and pages, the model settings and the profile with its style guide.

Answers come from the session's tiny local model (closed book, 8 tokens: fast, the text is
noise) or, where the text matters, from a scripted OpenAI-compatible server that cites page 2
of a PDF and invents a source besides.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest

from gateway.expert.answers import pages as answer_pages
from gateway.expert.answers.views import is_bundled
from tests.integration.test_answers import harbour_expert
from tests.support.api import HTML, HTMX, new_expert, quick_answer, ui_post
from tests.support.scripted_llm import cite_the_source_containing, scripted_model

pytestmark = pytest.mark.integration

KEY = "sk-console-test-1a2b3c4d5e"


@pytest.fixture
async def scripted():
    async with scripted_model(KEY, cite_the_source_containing("Quillmark")) as llm:
        yield llm


async def expert_with_pdf(api) -> tuple[dict, dict]:
    return await harbour_expert(api, name=f"Harbour {uuid.uuid4().hex[:6]}")


async def page(api, url: str, **params) -> str:
    response = await api.get(url, params=params or None, headers=HTML)  # None: keep url's query
    assert response.status_code == 200, response.text
    return response.text


def checked(html: str, name: str) -> list[str]:
    """The values of the checked radio buttons (or boxes) called `name`."""
    inputs = re.findall(r"<input[^>]*>", html)
    return [
        re.search(r'value="([^"]*)"', i).group(1)
        for i in inputs
        if f'name="{name}"' in i and " checked" in i
    ]


def field_value(html: str, field_id: str) -> str:
    return re.search(rf'<input id="{field_id}"[^>]*value="([^"]*)"', html, re.S).group(1)


# ---- chat ----------------------------------------------------------------------------------


async def test_the_expert_page_leads_to_asking_and_the_chat_page_explains_the_modes(api):
    expert = await new_expert(api, name="Mode guide")
    home = await page(api, f"/experts/{expert['id']}")
    for path in ("chat", "traces", "edit", "backend"):
        assert f'href="/experts/{expert["id"]}/{path}"' in home
    assert "Ask Mode guide" in home

    chat = await page(api, f"/experts/{expert['id']}/chat")
    for text in (
        "Your question",
        "From my documents",
        "Looks up passages in your documents",
        "Closed book",
        "Prompt-tuned",
        ">Ask</button>",
        "Write a draft",
        '<script src="/static/chat.js" defer>',
        f'href="/experts/{expert["id"]}/backend"',
    ):
        assert text in chat, text
    assert checked(chat, "mode") == ["closed"]  # no documents: nothing to look up
    assert "has no documents yet" in chat
    # The session's model is a tiny local one, not the bundled SmolLM2: no warning about it.
    assert "Answering: the local model" in chat and "small bundled model" not in chat
    assert is_bundled("the bundled SmolLM2-135M model")
    assert not is_bundled("gpt-4o-mini on an OpenAI-compatible server at https://x/v1")


async def test_asking_without_javascript_shows_the_checked_answer_with_its_sources(api, scripted):
    expert, doc = await expert_with_pdf(api)
    body = {"kind": "openai", "base_url": scripted.url, "model": "scripted", "api_key": KEY}
    assert (await api.put(f"/api/experts/{expert['id']}/backend", json=body)).status_code == 200
    chat = await page(api, f"/experts/{expert['id']}/chat")
    assert checked(chat, "mode") == ["rag"]  # it has documents
    assert "scripted on an OpenAI-compatible server" in chat

    question = "Which tower guards the north?"
    answered = await ui_post(
        api, f"/ui/experts/{expert['id']}/ask", {"question": question, "mode": "rag"}
    )
    assert answered.status_code == 200, answered.text
    html = answered.text
    assert question in html and "Quillmark" in html
    link = f'<a class="cite" href="/api/documents/{doc["id"]}/file#page=2"'
    assert link in html  # [1] opens the PDF at the cited page
    assert "[7]" not in html and "1 made-up source removed" in html
    assert f'<li value="1"><a href="/api/documents/{doc["id"]}/file#page=2"' in html
    assert 'hx-post="/ui/answers/' in html  # its card, to rate it

    empty = await ui_post(api, f"/ui/experts/{expert['id']}/ask", {"question": "  "})
    assert empty.status_code == 400 and "Type a question first." in empty.text


async def test_a_failing_model_server_is_one_sentence_on_the_chat_page(api):
    expert = await new_expert(api)
    dead = {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "x", "timeout_s": 2}
    await api.put(f"/api/experts/{expert['id']}/backend", json=dead)
    reply = await ui_post(
        api, f"/ui/experts/{expert['id']}/ask", {"question": "Hello?", "mode": "closed"}
    )
    assert reply.status_code == 502
    assert "The model server did not answer:" in reply.text and "<form" in reply.text


# ---- the answer's card ---------------------------------------------------------------------


async def test_feedback_through_the_card_returns_the_updated_card(api):
    expert = await new_expert(api)
    answer = await quick_answer(api, expert["id"], "What is a lighthouse?")
    url = f"/ui/answers/{answer['answer_id']}"

    card = await api.get(f"{url}/card", headers=HTMX)
    assert card.status_code == 200
    assert f'id="card-{answer["answer_id"]}"' in card.text
    assert "How good is this answer?" in card.text and 'aria-label="5 stars"' in card.text
    assert checked(card.text, "rating") == []

    form = {"rating": "5", "edited_answer": "A tower with a light.", "tags": "ships, light, ships"}
    saved = await ui_post(api, f"{url}/feedback", {**form, "comment": "close"}, htmx=True)
    assert saved.status_code == 200, saved.text
    assert "You rated it 5 of 5" in saved.text and "Feedback given once." in saved.text
    assert "A tower with a light." in saved.text and "“close”" in saved.text
    assert checked(saved.text, "rating") == ["5"]
    feedback = (await api.get(f"/api/answers/{answer['answer_id']}")).json()["feedback"]
    assert sorted(feedback["tags"]) == ["light", "ships"] and feedback["comment"] == "close"

    # The answer left as it was is no edit.
    again = await ui_post(
        api, f"{url}/feedback", {"rating": "3", "edited_answer": answer["answer"]}, htmx=True
    )
    assert "You rated it 3 of 5" in again.text and "wrote a better version" not in again.text
    assert "Feedback given 2 times; the latest counts." in again.text
    trace = (await api.get(f"/api/answers/{answer['answer_id']}")).json()
    assert trace["feedback"]["edited_answer"] is None and trace["feedback"]["rating"] == 3

    unrated = await ui_post(api, f"{url}/feedback", {"edited_answer": "Kept text"}, htmx=True)
    assert unrated.status_code == 400
    assert "Choose a rating from 1 to 5 stars." in unrated.text and "Kept text" in unrated.text
    too_many = await ui_post(api, f"{url}/feedback", {"rating": "9"}, htmx=True)
    assert too_many.status_code == 400 and "rating" in too_many.text
    assert f'id="card-{answer["answer_id"]}"' in too_many.text  # the message is in the card
    assert (await api.get(f"/api/answers/{answer['answer_id']}")).json()["feedback"]["rating"] == 3

    no_js = await ui_post(api, f"{url}/feedback", {"rating": "4"})
    assert no_js.status_code == 303
    assert no_js.headers["location"] == (
        f"/experts/{expert['id']}/traces#answer-{answer['answer_id']}"
    )


async def test_the_score_shows_with_its_reasons_and_stops_polling(api):
    expert = await new_expert(api)
    answer = await quick_answer(api, expert["id"], "Tell me about tides.")
    url = f"/ui/answers/{answer['answer_id']}/score"
    for _ in range(150):
        fragment = (await api.get(url, params={"polls": 3}, headers=HTMX)).text
        if "automatic score" in fragment:
            break
        assert 'hx-trigger="every 1s"' in fragment and "polls=4" in fragment
        await asyncio.sleep(0.2)
    score = (await api.get(f"/api/answers/{answer['answer_id']}")).json()["score"]
    assert f"{score['score']:.1f} / 10" in fragment
    assert all(reason in fragment for reason in score["reasons"])
    assert "hx-trigger" not in fragment  # scored: the polling ends

    missing = await api.get("/ui/answers/nothing-here/card", headers=HTMX)
    assert missing.status_code == 404 and 'class="alert error"' in missing.text


# ---- traces --------------------------------------------------------------------------------


async def test_traces_list_newest_first_with_filters_and_older_pages(api, monkeypatch):
    expert = await new_expert(api)
    first = await quick_answer(api, expert["id"], "First question about tides?")
    await quick_answer(api, expert["id"], "Second question about boats?")
    draft = await api.post(
        f"/api/experts/{expert['id']}/drafts",
        json={"prompt": "A note to the harbour master", "max_tokens": 8},
    )
    assert draft.status_code == 200, draft.text
    await ui_post(api, f"/ui/answers/{first['answer_id']}/feedback", {"rating": "4"}, htmx=True)
    url = f"/experts/{expert['id']}/traces"

    every = await page(api, url)
    order = [every.index(q) for q in ("A note to the harbour", "Second question", "First question")]
    assert order == sorted(order)  # newest first
    assert "Rated 4 of 5" in every and "Closed book" in every and ">Draft<" in every
    assert f'id="answer-{first["answer_id"]}"' in every and 'name="rating"' in every

    rated = await page(api, url, rated="yes")
    assert "First question" in rated and "Second question" not in rated
    drafts = await page(api, url, mode="draft")
    assert "A note to the harbour" in drafts and "question about" not in drafts
    closed = await page(api, url, mode="closed", rated="no")
    assert "Second question" in closed and "First question" not in closed
    assert "harbour master" not in closed
    nothing = await page(api, url, min_score="10", max_score="10", mode="draft")
    assert "No answers match these filters." in nothing

    wrong = await api.get(url, params={"min_score": "lots"}, headers=HTML)
    assert wrong.status_code == 400
    assert "The lowest score must be a number from 0 to 10." in wrong.text

    monkeypatch.setattr(answer_pages, "PAGE_SIZE", 1)
    newest = await page(api, url, mode="closed")
    assert "Second question" in newest and "First question" not in newest
    older = re.search(r'href="([^"]*)">Older answers</a>', newest).group(1).replace("&amp;", "&")
    assert "mode=closed" in older and "after=" in older
    last = await page(api, older)
    assert "First question" in last and "Second question" not in last
    assert "Older answers" not in last and "Back to the newest answers" in last


# ---- model settings ------------------------------------------------------------------------


async def test_backend_settings_save_never_show_the_key_and_test_the_connection(api):
    expert = await new_expert(api)
    url = f"/experts/{expert['id']}/backend"
    form_url = f"/ui/experts/{expert['id']}/backend"

    blank = await page(api, url)
    assert "Now answering: the local model" in blank and checked(blank, "kind") == ["local"]
    for preset in (
        "https://api.openai.com/v1",
        "http://127.0.0.1:8000/v1",
        "http://127.0.0.1:8080/v1",
        "http://127.0.0.1:1234/v1",
        "https://generativelanguage.googleapis.com/v1beta/openai/",
        "http://127.0.0.1:11434",
    ):
        assert f'data-base-url="{preset}"' in blank
    assert "A key is stored" not in blank and 'type="password"' in blank

    server = {
        "kind": "openai",
        "base_url": "http://127.0.0.1:9/v1",
        "model": "far-away",
        "timeout_s": "2",
    }
    saved = await ui_post(api, form_url, {**server, "api_key": KEY})
    assert saved.status_code == 303 and saved.headers["location"] == f"{url}?saved=true"
    shown = await page(api, saved.headers["location"])
    assert "Saved." in shown and "A key is stored." in shown and KEY not in shown
    assert checked(shown, "kind") == ["openai"] and field_value(shown, "api_key") == ""
    assert field_value(shown, "base_url") == server["base_url"]
    assert field_value(shown, "model") == "far-away" and field_value(shown, "timeout_s") == "2"

    kept = await ui_post(api, form_url, {**server, "model": "nearer", "api_key": ""})
    assert kept.status_code == 303
    settings = (await api.get(f"/api/experts/{expert['id']}/backend")).json()
    assert settings["api_key_set"] is True and settings["model"] == "nearer"

    tried = await ui_post(api, f"{form_url}/test", htmx=True)
    assert tried.status_code == 200 and "It did not work:" in tried.text
    assert 'class="alert error"' in tried.text and "<html" not in tried.text

    slow = await ui_post(api, form_url, {**server, "timeout_s": "forever", "api_key": KEY})
    assert slow.status_code == 400 and "The timeout must be a number of seconds" in slow.text
    assert field_value(slow.text, "base_url") == server["base_url"] and KEY not in slow.text

    removed = await ui_post(api, form_url, {**server, "remove_key": "on"})
    assert removed.status_code == 303
    assert (await api.get(f"/api/experts/{expert['id']}/backend")).json()["api_key_set"] is False

    local = await ui_post(api, form_url, {"kind": "local"})
    assert local.status_code == 303
    assert (await api.get(f"/api/experts/{expert['id']}/backend")).json()["kind"] == "local"


# ---- profile -------------------------------------------------------------------------------


async def test_the_profile_form_edits_the_style_guide_and_banned_topics(api):
    expert = await new_expert(api, name="Stylist", goals=["Explain knots"])
    url = f"/experts/{expert['id']}/edit"
    form_page = await page(api, url)
    assert field_value(form_page, "name") == "Stylist" and "Explain knots" in form_page
    version = re.search(r'name="version" value="(\d+)"', form_page).group(1)

    form = {
        "name": "Stylist",
        "domain": "Sailing knots",
        "description": "Knows every knot.",
        "goals": "Explain knots\r\n\r\nTeach splicing",
        "influences": "Clifford Ashley",
        "tone": "warm and direct",
        "vocabulary": "bight, bitter end",
        "sentence_length": "short",
        "do": "Give an example\r\nName the knot",
        "dont": "Use jargon unexplained",
        "banned_topics": "medical advice\r\nbetting",
        "quote_sources": "never",
        "version": version,
    }
    saved = await ui_post(api, f"/ui/experts/{expert['id']}/edit", form)
    assert saved.status_code == 303 and saved.headers["location"] == f"/experts/{expert['id']}"
    now = (await api.get(f"/api/experts/{expert['id']}")).json()
    assert now["goals"] == ["Explain knots", "Teach splicing"]
    assert now["influences"] == ["Clifford Ashley"] and now["domain"] == "Sailing knots"
    assert now["style_guide"] == {
        "tone": "warm and direct",
        "vocabulary": "bight, bitter end",
        "sentence_length": "short",
        "do": ["Give an example", "Name the knot"],
        "dont": ["Use jargon unexplained"],
    }
    assert now["banned_topics"] == ["medical advice", "betting"]
    assert now["quote_sources"] == "never"
    again = await page(api, url)
    assert 'value="never" checked' in again
    assert "medical advice\nbetting</textarea>" in again and field_value(again, "tone") == (
        "warm and direct"
    )

    stale = await ui_post(api, f"/ui/experts/{expert['id']}/edit", {**form, "tone": "curt"})
    assert stale.status_code == 409 and "Someone else changed this expert" in stale.text
    assert (await api.get(f"/api/experts/{expert['id']}")).json()["style_guide"]["tone"] == (
        "warm and direct"
    )

    fresh = re.search(r'name="version" value="(\d+)"', again).group(1)
    nameless = await ui_post(
        api, f"/ui/experts/{expert['id']}/edit", {**form, "name": " ", "version": fresh}
    )
    assert nameless.status_code == 400 and "name must not be empty" in nameless.text
    assert "Give an example\nName the knot" in nameless.text.replace("\r\n", "\n")

    odd = await ui_post(
        api, f"/ui/experts/{expert['id']}/edit", {**form, "quote_sources": "x", "version": fresh}
    )
    assert odd.status_code == 400 and "auto, always or never" in odd.text
