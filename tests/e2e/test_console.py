"""The web console in a real browser: Debian's Chromium, headless, driven by Playwright.

Each test does what a person would do in the console (fill a form, pick files, type a
question, press a button) and checks what that person would see. The browser talks to the
session's real gateway (`stack`), which runs on this event loop, so only Playwright's async
API is used here: the sync one would block the loop and with it the gateway.

Playwright is used with the system Chromium (`apt-get install chromium`); it never downloads
a browser, so `playwright install` is not needed.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Dialog, Page, expect

from tests.e2e.browser import UI_TIMEOUT_MS, skip_without_chromium, until_true
from tests.support import pdfs
from tests.support.accounts import session_cookie

skip_without_chromium()

pytestmark = pytest.mark.e2e

INGEST_TIMEOUT_MS = 60_000  # a document going from "Uploaded" to "Ready" on a slow runner
POLL_S = 0.25
# Console errors that are known product issues rather than failures of what is tested here;
# drop an entry once its cause is fixed.
KNOWN_CONSOLE_ERRORS: tuple[str, ...] = ()

NEEDLE = "The lighthouse keeper of Varnholm polished the great lens every Tuesday at dawn."
QUESTION = "Who polishes the great lens of the lighthouse?"
FILLER = (
    "This page talks about the weather along the coast, the boats in the harbour and the "
    "habits of the people who live there. "
) * 4

# Runs in every page before its own scripts: counts the live-table events of htmx's SSE
# extension, remembers every status each document row was seen in, and reports anything the
# Content-Security-Policy refused (to `__e2eViolation`, bound by the `page` fixture).
PROBE = """
window.__e2e = {sseOpen: 0, sseMessages: 0, statuses: {}};
document.addEventListener("securitypolicyviolation", (e) => {
  window.__e2eViolation?.(`${e.effectiveDirective} refused ${e.blockedURI || "inline"}`);
});
document.addEventListener("htmx:sseOpen", () => { window.__e2e.sseOpen += 1; });
document.addEventListener("htmx:sseMessage", () => { window.__e2e.sseMessages += 1; });
new MutationObserver(() => {
  for (const row of document.querySelectorAll("#documents tr[data-status]")) {
    const name = row.querySelector("td a")?.textContent.trim();
    const seen = (window.__e2e.statuses[name] ||= []);
    if (seen[seen.length - 1] !== row.dataset.status) seen.push(row.dataset.status);
  }
}).observe(document, {childList: true, subtree: true});
"""


def book() -> bytes:
    """Three pages; the sentence the tests look for is on page 3 only."""
    return pdfs.make_pdf(
        [
            f"Harbour notes. {FILLER}",
            f"Boat notes. The fishing fleet leaves before sunrise. {FILLER}",
            f"Lighthouse notes. {NEEDLE} {FILLER}",
        ]
    )


def pdf_file(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": data}


# ---- fixtures ------------------------------------------------------------------------------


@pytest.fixture
async def page(browser: Browser, stack, nc) -> AsyncIterator[Page]:
    """A fresh browser tab on the gateway, signed in as the owner; fails the test on any error the page shows in
    its console or throws, or anything its Content-Security-Policy refuses, and accepts
    confirmation dialogs (remembered in `page.dialogs`)."""
    context = await browser.new_context(base_url=stack.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    cookie = await session_cookie(nc, stack.owner.user_id)
    await context.add_cookies(
        [{"name": k, "value": v, "url": stack.url} for k, v in cookie.items()]
    )
    errors: list[str] = []
    await context.expose_binding(
        "__e2eViolation", lambda source, what: errors.append(f"CSP: {what} ({source['frame'].url})")
    )
    await context.add_init_script(PROBE)
    tab = await context.new_page()
    tab.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))

    def on_console(msg: ConsoleMessage) -> None:
        text = f"{msg.text} ({msg.location.get('url')})"
        if msg.type == "error" and not any(known in text for known in KNOWN_CONSOLE_ERRORS):
            errors.append(f"console: {text}")

    tab.on("console", on_console)
    tab.dialogs = []  # type: ignore[attr-defined]

    async def accept(dialog: Dialog) -> None:
        tab.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        await dialog.accept()

    tab.on("dialog", accept)
    yield tab
    await context.close()
    assert not errors, "the page reported errors:\n" + "\n".join(errors)


@pytest.fixture
async def expert(api: httpx.AsyncClient) -> dict:
    """An expert with no documents, made through the API (the UI for this is test 1)."""
    response = await api.post("/api/experts", json={"name": f"Keeper {uuid.uuid4().hex[:6]}"})
    assert response.status_code == 201, response.text
    return response.json()


async def upload_and_settle(api: httpx.AsyncClient, expert_id: str, *files: tuple[str, bytes]):
    """Upload through the API and wait until every file is ready or rejected."""
    parts = [("file", (name, data, "application/pdf")) for name, data in files]
    response = await api.post(f"/api/experts/{expert_id}/documents", files=parts)
    assert response.status_code == 202, response.text
    loop = asyncio.get_running_loop()
    deadline = loop.time() + INGEST_TIMEOUT_MS / 1000
    for accepted in response.json()["documents"]:
        while True:
            doc = (await api.get(f"/api/documents/{accepted['id']}")).json()
            if doc["status"] in ("ready", "rejected"):
                break
            assert loop.time() < deadline, f"{doc['filename']} is stuck in {doc['status']}"
            await asyncio.sleep(POLL_S)


def document_row(page: Page, filename: str):
    return page.locator("#documents tbody tr").filter(
        has=page.get_by_role("link", name=filename, exact=True)
    )


async def search(page: Page, question: str) -> None:
    """Ask a question with the search box and wait for the answer to be shown."""
    box = page.get_by_role("searchbox", name="What are you looking for?")
    await box.fill(question)
    async with page.expect_response(lambda r: "/search?" in r.url and r.ok):
        await box.press("Enter")


# ---- tests ---------------------------------------------------------------------------------


async def test_create_an_expert_from_the_start_page(page: Page):
    name = f"Dr. Ada {uuid.uuid4().hex[:6]}"
    await page.goto("/")
    await expect(page.get_by_role("heading", name="Create an expert")).to_be_visible()

    await page.get_by_label("Name").fill(name)
    await page.get_by_label("What does it know about?").fill("Lighthouses of the north coast")
    await page.get_by_label("Goals").fill("Explain how a lens works\nTell the keepers' stories")
    await page.get_by_role("button", name="Create expert").click()

    await expect(page).to_have_url(re.compile(r"/experts/[^/?#]+$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    await expect(page).to_have_title(f"{name} · Simtune")
    await expect(page.get_by_text("Lighthouses of the north coast")).to_be_visible()
    await expect(page.locator("ul.goals li")).to_have_text(
        ["Explain how a lens works", "Tell the keepers' stories"]
    )
    await expect(page.get_by_text("No documents yet.")).to_be_visible()

    await page.get_by_role("link", name="Your experts").click()
    await expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()


async def test_uploads_show_up_live_until_ready_or_rejected(page: Page, expert: dict):
    await page.goto(f"/experts/{expert['id']}")
    await expect(page.get_by_text("No documents yet.")).to_be_visible()
    # The live table is connected before anything is uploaded, so what follows arrives over it.
    await until_true(page, "window.__e2e.sseOpen > 0")
    messages_before = await page.evaluate("window.__e2e.sseMessages")
    await page.evaluate("window.__e2eMarker = 'set before the upload'")
    navigations: list[str] = []
    page.on("framenavigated", lambda f: navigations.append(f.url) if f == page.main_frame else None)

    await page.locator("#file").set_input_files(
        [
            pdf_file("lighthouse-book.pdf", book()),
            pdf_file("broken.pdf", pdfs.make_corrupt_pdf()),
        ]
    )
    await expect(page.get_by_role("status")).to_contain_text("Received 2 files.")

    good = document_row(page, "lighthouse-book.pdf")
    bad = document_row(page, "broken.pdf")
    await expect(good.locator(".badge")).to_have_text("Ready", timeout=INGEST_TIMEOUT_MS)
    await expect(good).to_contain_text("Your expert can use this file now.")
    await expect(good.locator("td").nth(2)).to_have_text("3")  # pages
    await expect(bad.locator(".badge")).to_have_text("Rejected", timeout=INGEST_TIMEOUT_MS)
    await expect(bad).to_contain_text("This PDF is damaged or incomplete and cannot be opened.")

    # It was the live table, not a reload: the page is the same document it was before.
    assert navigations == []
    assert await page.evaluate("window.__e2eMarker") == "set before the upload"
    assert await page.evaluate("window.__e2e.sseMessages") > messages_before
    statuses = await page.evaluate("window.__e2e.statuses")
    assert statuses["lighthouse-book.pdf"][-1] == "ready", statuses
    assert statuses["broken.pdf"][-1] == "rejected", statuses
    # The file input is cleared for the next upload.
    assert await page.locator("#file").evaluate("input => input.files.length") == 0


async def test_search_shows_the_passage_its_file_and_page(page: Page, expert: dict, api):
    await upload_and_settle(
        api, expert["id"], ("lighthouse-book.pdf", book()), ("broken.pdf", pdfs.make_corrupt_pdf())
    )
    await page.goto(f"/experts/{expert['id']}")
    await expect(document_row(page, "lighthouse-book.pdf").locator(".badge")).to_have_text("Ready")

    await search(page, QUESTION)

    best = page.locator("#results li.result").first
    await expect(best.locator("blockquote")).to_contain_text(NEEDLE)
    await expect(best.locator(".source")).to_contain_text("From lighthouse-book.pdf, page 3")
    link = best.get_by_role("link", name="lighthouse-book.pdf")
    await expect(link).to_have_attribute("href", re.compile(r"#page=3$"))
    await expect(link).to_have_attribute("target", "_blank")

    if shots := os.environ.get("SIMTUNE_E2E_SCREENSHOTS"):
        Path(shots).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(shots) / "expert-page.png"), full_page=True)


async def test_removing_a_document_forgets_it(page: Page, expert: dict, api):
    await upload_and_settle(api, expert["id"], ("lighthouse-book.pdf", book()))
    await page.goto(f"/experts/{expert['id']}")
    row = document_row(page, "lighthouse-book.pdf")
    await expect(row.locator(".badge")).to_have_text("Ready")
    await search(page, QUESTION)
    await expect(page.locator("#results")).to_contain_text(NEEDLE)

    await row.get_by_role("button", name="Remove lighthouse-book.pdf").click()

    await expect(row).to_have_count(0)
    await expect(page.get_by_text("No documents yet.")).to_be_visible()
    assert page.dialogs == [  # type: ignore[attr-defined]
        "Remove lighthouse-book.pdf? Your expert will forget what it learned from it."
    ]
    # Forgetting the passages may trail the table by a moment: ask again until it has.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + UI_TIMEOUT_MS / 1000
    while True:
        await search(page, QUESTION)
        if await page.locator("#results li.result").count() == 0:
            break
        assert loop.time() < deadline, "the removed document is still found"
        await asyncio.sleep(POLL_S)
    await expect(page.locator("#results")).to_contain_text(f"Nothing found for “{QUESTION}”.")
    await expect(page.locator("#results")).not_to_contain_text("lighthouse-book.pdf")


async def test_deleting_an_expert_from_its_page(page: Page, expert: dict, api):
    await page.goto(f"/experts/{expert['id']}")
    await page.get_by_role("button", name="Delete expert").click()

    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.get_by_role("heading", name="Your experts")).to_be_visible()
    await expect(page.get_by_role("link", name=expert["name"], exact=True)).to_have_count(0)
    assert page.dialogs == [  # type: ignore[attr-defined]
        f"Delete {expert['name']} and all of its documents? This cannot be undone."
    ]
    assert (await api.get(f"/api/experts/{expert['id']}")).status_code == 404


# ---- what the console refuses --------------------------------------------------------------

# A page on another site that posts to Simtune as soon as it is opened: JSON smuggled in a
# text/plain form to the API, and the console's own create form.
ATTACKS = {
    "json as text/plain": """<form method="post" action="{url}/api/experts" enctype="text/plain">
      <input name='{{"name": "Mallory", "x": "' value='"}}'></form>""",
    "console form": """<form method="post" action="{url}/ui/experts">
      <input name="name" value="Mallory"></form>""",
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_another_site_cannot_post_to_simtune(browser: Browser, stack, api, attack):
    before = (await api.get("/api/experts")).json()
    context = await browser.new_context()
    tab = await context.new_page()
    evil = ATTACKS[attack].format(url=stack.url) + "<script>document.forms[0].submit()</script>"
    await tab.route(
        "http://evil.example/**", lambda route: route.fulfill(body=evil, content_type="text/html")
    )
    async with tab.expect_response(lambda r: r.url.startswith(stack.url)) as answer:
        await tab.goto("http://evil.example/")
    response = await answer.value
    request_headers = await response.request.all_headers()
    await context.close()

    assert response.status == 403, await response.text()
    assert request_headers.get("origin") == "http://evil.example"
    assert (await api.get("/api/experts")).json() == before


async def test_the_console_policy_refuses_inline_script_and_style(browser: Browser, stack):
    context = await browser.new_context(base_url=stack.url)
    tab = await context.new_page()
    response = await tab.goto("/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    refused = await tab.evaluate(
        """() => new Promise((resolve) => {
          const seen = [];
          document.addEventListener("securitypolicyviolation", (e) => {
            seen.push(e.effectiveDirective);
            if (seen.length === 2) resolve(seen.sort());
          });
          const script = document.createElement("script");
          script.textContent = "window.__injected = true";
          document.body.append(script);
          document.querySelector("h1").setAttribute("style", "color: red");
        })"""
    )
    assert refused == ["script-src-elem", "style-src-attr"]
    assert await tab.evaluate("window.__injected") is None
    await context.close()
