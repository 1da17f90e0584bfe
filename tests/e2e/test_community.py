"""The community pages in a real browser (Chromium, headless): a template whose every field
is an attack — its name, description, domain, methodology, keywords, body, author, a review
and a report — is shown on the hub, its own page, the person's templates and the owner's
moderation queue without a dialog opening, a script running or the Content-Security-Policy
refusing anything (the `page` fixture fails the test on any CSP violation or page error);
and a person imports it from the hub with the warning named first."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import skip_without_chromium
from tests.e2e.test_console import page  # noqa: F401  (fixture)
from tests.integration.test_console_community import ATTACK, LINK_ATTACK, template_text

skip_without_chromium()

pytestmark = pytest.mark.e2e

# Set by any payload that runs: the page's own scripts never touch it.
RAN = "window.__xss"


async def hostile_template(api) -> tuple[str, str, str]:
    """A published and reviewed template made of attacks: its marker, local and registry ids."""
    marker = uuid.uuid4().hex[:6]
    run = f"window.__xss=1;alert('{marker}')"
    body = (
        f'# {ATTACK}\n\n{LINK_ATTACK}\n\n<img src=x onerror="{run}">\n\n'
        f'[tap](javascript:{run})\n\n<a href="javascript:{run}">tap</a>'
    )
    content = template_text(
        f"{marker} <script>{run}</script>",
        body=body,
        description=f'"><img src=x onerror="{run}">',
        domain=f'{marker} <svg onload="{run}">',
        methodology="<iframe src=javascript:alert(1)>",
        keywords=["<script>alert(2)</script>"],
    )
    created = await api.post("/api/templates", json={"content": content})
    assert created.status_code == 201, created.text
    template_id = created.json()["id"]
    published = await api.post(
        f"/api/templates/{template_id}/publish", json={"author": f'<b onclick="{run}">x</b>'}
    )
    assert published.status_code == 200, published.text
    registry_id = published.json()["registry_id"]
    return marker, template_id, registry_id


async def nothing_ran(tab: Page) -> None:
    assert await tab.evaluate(f"typeof {RAN}") == "undefined"
    assert tab.dialogs == []  # type: ignore[attr-defined]


async def test_a_hostile_template_is_shown_inert_everywhere(page: Page, api):  # noqa: F811
    marker, template_id, registry_id = await hostile_template(api)

    await page.goto(f"/community?q={marker}")
    await expect(page.locator(f"#listing-{registry_id}")).to_contain_text(marker)
    await nothing_ran(page)

    await page.goto(f"/community/{registry_id}")
    await expect(page.locator("#template-warnings")).to_be_visible()
    await expect(page.locator(".template-body")).to_contain_text("tap")
    # a link written as javascript: keeps its text and loses its address
    for link in await page.locator(".template-body a").all():
        assert not (await link.get_attribute("href") or "").lower().startswith("javascript")
    await nothing_ran(page)

    # importing from the hub names the unusual patterns first
    await page.goto(f"/community?q={marker}")
    await page.locator(f"#listing-{registry_id} button", has_text="Import").click()
    await expect(page.locator("#template-warnings")).to_contain_text("script or active HTML")
    await page.get_by_role("button", name="Import anyway").click()
    await expect(page.locator("main")).to_contain_text("Imported")
    await nothing_ran(page)

    review = await api.post(
        f"/api/community/templates/{registry_id}/review", json={"rating": 2, "comment": ATTACK}
    )
    assert review.status_code == 200, review.text
    report = await api.post(
        f"/api/community/templates/{registry_id}/report", json={"reason": LINK_ATTACK}
    )
    assert report.status_code == 201, report.text
    for url in (f"/community/{registry_id}", "/templates", f"/templates/{template_id}",
                "/admin/moderation"):  # fmt: skip
        await page.goto(url)
        await expect(page.locator("main")).to_contain_text(marker)
        await nothing_ran(page)
