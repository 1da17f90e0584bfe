"""What the console's community pages draw from what the service answers: the offline banner
when the registry could not be reached, the update badge, a listing whose every field is an
attack drawn as text, and the update's diff escaped and sanitized. Rendered with the
console's own Jinja environment, as the gateway renders them."""

from __future__ import annotations

from contracts.community import Listing, ListingItem
from gateway.community.pages import diff_table, hub_context_of
from gateway.http.templating import environment
from tests.support.inert import active_parts

ATTACKS = [
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "<svg onload=alert(1)>",
]


def hub(listing: Listing) -> str:
    context = hub_context_of(listing, q="", domain="", sort="popular")
    template = environment().get_template("community/hub.html")
    return template.render(**context, notice=None, csrf_token=lambda: "token")


def item(**fields) -> ListingItem:
    return ListingItem(**{"id": "t1", "name": "Socratic", "version": "1.0.0", **fields})


def test_the_hub_says_it_is_offline_and_lists_the_cached_templates():
    page = hub(Listing(items=[item()], page=1, pages=1, total=1, offline=True))
    assert 'id="offline-banner"' in page and "cannot be reached" in page
    assert "Socratic" in page
    online = hub(Listing(items=[item()], page=1, pages=1, total=1))
    assert 'id="offline-banner"' not in online


def test_an_imported_template_with_a_newer_version_has_an_update_badge():
    newer = item(imported_version="1.0.0", version="1.1.0", update_available=True)
    page = hub(Listing(items=[newer], page=1, pages=1, total=1))
    assert "Update available" in page and "/community/t1#update" in page
    current = hub(Listing(items=[item(imported_version="1.0.0")], page=1, pages=1, total=1))
    assert "Update available" not in current and "Imported" in current


def test_pages_link_to_the_previous_and_next_page_keeping_the_search():
    context = hub_context_of(
        Listing(items=[item()], page=2, pages=3, total=45), q="tax law", domain="law", sort="rating"
    )
    assert context["previous"] == "/community?q=tax+law&domain=law&sort=rating&page=1"
    assert context["next"] == "/community?q=tax+law&domain=law&sort=rating&page=3"


def test_every_field_of_a_listing_is_drawn_as_text():
    attacked = [
        item(
            id=f"t{n}",
            name=attack[:80],
            domain=attack,
            description=attack,
            methodology=attack,
            author=attack,
        )
        for n, attack in enumerate(ATTACKS)
    ]
    page = hub(Listing(items=attacked, page=1, pages=1, total=len(ATTACKS)))
    assert active_parts(page) == []
    assert "&lt;script&gt;alert(" in page  # shown, as the text it is


def test_the_diff_of_a_new_version_is_escaped_and_shows_what_changed():
    old = "---\nname: A\nversion: 1.0.0\n---\nAsk first.\n"
    new = "---\nname: A\nversion: 1.1.0\n---\nAsk first.\n<script>alert(1)</script>\n"
    drawn = str(diff_table(old, new, "Yours", "New"))
    assert "<table" in drawn and "Yours" in drawn and "New" in drawn
    assert 'class="diff_add"' in drawn and 'class="diff_sub"' in drawn  # added, taken out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in drawn
    assert active_parts(drawn) == []
