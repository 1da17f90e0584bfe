"""Training data in a real browser (Chromium, as in test_console.py, whose fixtures these
are): build a small dataset from hand-written examples, watch its version become ready in
the list without reloading, open it and edit an example in place, which says "Saved as
version 2" and links to it while the page stays on version 1 — with no console error and
nothing refused by the Content-Security-Policy (the `page` fixture fails the test otherwise).
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.e2e.test_chat import screenshot
from tests.e2e.test_console import expert, page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e

EXAMPLES = "\n".join(
    f"Q: How often does light {n} flash?\nA: Light {n} flashes every {n + 2} seconds."
    for n in range(8)
)
BUILD_TIMEOUT_MS = 60_000  # the build may wait its turn behind another session's builds
BETTER = "It flashes green, every four seconds, all night."

# Every status each version row was seen in, in order.
WATCH_VERSIONS = """
window.__statuses = {};
new MutationObserver(() => {
  for (const row of document.querySelectorAll("#dataset-versions tr[data-status]")) {
    const seen = (window.__statuses[row.id] ||= []);
    if (seen[seen.length - 1] !== row.dataset.status) seen.push(row.dataset.status);
  }
}).observe(document, {childList: true, subtree: true});
"""


async def test_build_from_my_examples_watch_it_get_ready_and_edit_one_in_place(
    page: Page,  # noqa: F811
    expert: dict,  # noqa: F811
):
    await page.goto(f"/experts/{expert['id']}")
    await page.get_by_role("link", name="Training data").click()
    await expect(page).to_have_url(re.compile(rf"/experts/{expert['id']}/datasets$"))
    await expect(page.get_by_text("No versions yet.")).to_be_visible()
    await page.evaluate(WATCH_VERSIONS)
    await page.evaluate("window.__marker = 'before building'")

    for source in ("From my documents", "Good answers", "My edits (also as preference pairs)"):
        await page.get_by_role("checkbox", name=source).uncheck()
    await page.get_by_role("checkbox", name="Examples I write").check()
    await page.get_by_label("Your examples").fill(EXAMPLES)
    await page.get_by_role("button", name="Build").click()

    await expect(page.get_by_text("Building version 1")).to_be_visible()
    row = page.locator("#dataset-versions tbody tr").first
    await expect(row).to_have_attribute("data-status", "ready", timeout=BUILD_TIMEOUT_MS)
    await expect(row).to_contain_text("Examples I write: 8")
    await expect(row).to_contain_text("Needs 42 more examples before training.")
    assert await page.evaluate("window.__marker") == "before building"  # never reloaded
    statuses = await page.evaluate("window.__statuses")
    assert [seen[-1] for seen in statuses.values()] == ["ready"], statuses
    await screenshot(page, "datasets-page.png")

    await row.get_by_role("link", name="Version 1").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Version 1 of the training data"
    )
    examples = page.locator("tbody.example")
    await expect(examples).to_have_count(8)
    first = examples.first
    question = (await first.locator(".example-question").text_content()).strip()
    await page.evaluate("window.__marker = 'before editing'")

    await first.get_by_text("Edit", exact=True).click()
    await first.get_by_label("Answer").fill(BETTER)
    await first.get_by_role("button", name="Save as a new version").click()
    notice = first.locator(".saved-notice")
    await expect(notice).to_contain_text("Saved as version 2")
    assert await page.evaluate("window.__marker") == "before editing"
    await expect(first.locator(".example-answer")).not_to_contain_text(BETTER)  # still version 1

    await notice.get_by_role("link", name="version 2").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Version 2 of the training data"
    )
    changed = page.locator("tbody.example").filter(has_text=question)
    await expect(changed.locator(".example-answer")).to_have_text(BETTER)
    await expect(page.get_by_role("link", name="version 1")).to_be_visible()
    await screenshot(page, "dataset-page.png")
