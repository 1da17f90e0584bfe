"""What the console's community pages draw from what the service answers: the offline banner
when the registry could not be reached, the update badge, a listing whose every field is an
attack drawn as text, and the update's diff escaped and sanitized. Rendered with the
console's own Jinja environment, as the gateway renders them."""

from __future__ import annotations

from contracts.community import Listing, ListingItem
from gateway.community.hub_pages import hub_context_of
from gateway.community.page_parts import diff_table
from gateway.http.templating import environment
from tests.support.inert import active_parts

ATTACKS = [
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "<svg onload=alert(1)>",
]


def hub(listing: Listing) -> str:
    search = {"q": "", "domain": "", "methodology": "", "author": "", "sort": "popular"}
    context = hub_context_of(listing, search)
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
    search = {"q": "tax law", "domain": "law", "methodology": "socratic", "author": "Ann",
              "sort": "rating"}  # fmt: skip
    context = hub_context_of(Listing(items=[item()], page=2, pages=3, total=45), search)
    kept = "q=tax+law&domain=law&methodology=socratic&author=Ann&sort=rating"
    assert context["previous"] == f"/community?{kept}&page=1"
    assert context["next"] == f"/community?{kept}&page=3"


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


def test_a_listing_shows_its_rating_and_downloads_by_the_registrys_names():
    rated = item(avg_rating=4.5, review_count=2, download_count=7)
    page = hub(Listing(items=[rated], page=1, pages=1, total=1))
    assert "4.5 of 5 (2 ratings)" in page and "Downloads</dt><dd>7" in page
    unrated = hub(Listing(items=[item()], page=1, pages=1, total=1))
    assert "Not rated yet" in unrated and "Downloads</dt><dd>0" in unrated
