"""Asking an expert in a real browser (Chromium, as in test_console.py, whose fixtures these
are): the answer streams in, ends with citation links to the right page, is rated and
edited in place, and shows up rated on the traces page — with no console error and nothing
refused by the Content-Security-Policy (the `page` fixture fails the test otherwise).

The model is a scripted OpenAI-compatible server, paced, that cites the passage naming Varnholm
(page 3 of the book) and invents a source [7], which the finished answer must not show.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.test_console import (  # noqa: F401  (fixtures)
    book,
    expert,
    page,
    upload_and_settle,
)
from tests.support.scripted_llm import cite_the_source_containing, scripted_model

pytestmark = pytest.mark.e2e

KEY = "sk-e2e-chat-0a1b2c3d"
PACE_S = 0.05  # between the model's pieces, so the page shows them one by one
SCORE_TIMEOUT_MS = 60_000  # the scorer runs in the background, on a slow runner
EDIT = "The keeper of Varnholm polishes the lens every Tuesday at dawn {marker}."

# Every text the answer box shows while it is written, in order.
WATCH_ANSWER = """
window.__answerTexts = [];
new MutationObserver(() => {
  const box = document.querySelector("#conversation .answer-text");
  const seen = window.__answerTexts;
  if (box && seen[seen.length - 1] !== box.textContent) seen.push(box.textContent);
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


@pytest.fixture
async def scripted():
    """The scripted model, writing its pieces a moment apart as a real model does."""
    paced = scripted_model(KEY, cite_the_source_containing("Varnholm"), word_delay_s=PACE_S)
    async with paced as llm:
        yield llm


async def test_ask_watch_it_stream_rate_and_edit_then_find_it_in_the_traces(
    page: Page,  # noqa: F811
    expert: dict,  # noqa: F811
    api,
    scripted,
):
    await upload_and_settle(api, expert["id"], ("lighthouse-book.pdf", book()))
    [doc] = (await api.get(f"/api/experts/{expert['id']}/documents")).json()
    body = {"kind": "openai", "base_url": scripted.url, "model": "scripted", "api_key": KEY}
    assert (await api.put(f"/api/experts/{expert['id']}/backend", json=body)).status_code == 200

    await page.goto(f"/experts/{expert['id']}")
    await page.get_by_role("link", name=f"Ask {expert['name']}").click()
    await expect(page).to_have_url(re.compile(rf"/experts/{expert['id']}/chat$"))
    await expect(page.locator("#model-note")).to_contain_text("scripted on an OpenAI-compatible")
    await expect(page.get_by_role("radio", name=re.compile("From my documents"))).to_be_checked()
    await page.evaluate(WATCH_ANSWER)
    await page.evaluate("window.__marker = 'before asking'")

    await page.get_by_label("Your question").fill("Who polishes the great lens?")
    await page.get_by_role("button", name="Ask", exact=True).click()

    exchange = page.locator("#conversation .exchange-card").first
    link = exchange.locator(".answer-text a.cite")
    await expect(link).to_have_text(re.compile(r"^\[\d+\]$"))
    await expect(link).to_have_attribute("href", f"/api/documents/{doc['id']}/file#page=3")
    marker = await link.text_content()
    answer = exchange.locator(".answer-text")
    supported = answer.locator(".claim.supported")
    await expect(supported).to_have_text(
        re.compile(r"^The lighthouse keeper of Varnholm .* dawn\.")
    )
    await expect(supported.locator("a.cite")).to_have_text(marker)
    flagged = answer.locator(".claim.unsupported")  # "It is well known [7]." cites nothing real
    await expect(flagged).to_contain_text("It is well known.")
    await expect(flagged.locator(".claim-note")).to_have_text("(not found in the sources)")
    await expect(answer).not_to_contain_text("[7]")
    await expect(exchange.locator(".sources li")).to_have_text(["lighthouse-book.pdf, page 3"])
    await expect(exchange.locator(".answer-meta")).to_contain_text("1 made-up source removed")
    texts = await page.evaluate("window.__answerTexts")
    assert len(texts) > 3, texts  # it grew piece by piece ...
    assert any("[7]" in t for t in texts), texts  # ... as the model wrote it, then was checked

    card = exchange.locator(".answer-card")
    await expect(card.get_by_text("How good is this answer?")).to_be_visible()
    await expect(card.locator(".score-badge")).to_be_visible(timeout=SCORE_TIMEOUT_MS)
    await expect(card.locator(".why")).to_contain_text("Citations valid: 50%")

    await card.locator("label[for$='-5']").click()
    await expect(card.locator(".given")).to_contain_text("You rated it 5 of 5")
    await card.get_by_text("Edit the answer").click()
    edit = EDIT.format(marker=marker)
    await card.get_by_label("Your better version").fill(edit)
    await card.get_by_role("button", name="Save feedback").click()
    await expect(card.locator(".given")).to_contain_text("wrote a better version")
    await expect(card.locator(".given")).to_contain_text("Feedback given 2 times")
    await expect(card.locator(".given .answer-text a.cite")).to_have_attribute(
        "href", re.compile(r"#page=3$")
    )
    assert await page.evaluate("window.__marker") == "before asking"  # never reloaded
    await screenshot(page, "chat-page.png")

    await page.goto(f"/experts/{expert['id']}/traces")
    row = page.locator("li.trace").first
    await expect(row.locator(".trace-question")).to_have_text("Who polishes the great lens?")
    await expect(row.locator(".rating")).to_have_attribute("data-rating", "5")
    await expect(row.locator(".badge.edited")).to_be_visible()
    await row.locator(".trace-question").click()
    await expect(row.locator(".given")).to_contain_text(edit)
    await expect(row.locator(".claim.unsupported .claim-note")).to_be_visible()
    await screenshot(page, "traces-page.png")


async def screenshot(tab: Page, name: str) -> None:
    if shots := os.environ.get("SIMTUNE_E2E_SCREENSHOTS"):
        Path(shots).mkdir(parents=True, exist_ok=True)
        await tab.screenshot(path=str(Path(shots) / name), full_page=True)
