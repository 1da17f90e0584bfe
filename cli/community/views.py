"""How `simtune community` shows the hub: a page of listings (with the offline line and the
update badge) and one published template. Everything here was written by strangers, so
every field is a `Text`, never read as Rich markup."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cli.render import NONE, details, table, when
from cli.templates.views import front_matter

UPDATE = "update available"


def rating(item: dict) -> str:
    """'4.3 ★ (12)', or '–' when nobody has rated it."""
    count = item.get("review_count") or 0
    if not count:
        return NONE
    return f"{item.get('avg_rating') or 0:.1f} ★ ({count})"


def author(item: dict) -> str:
    return item.get("author") or "anonymous"


def listing_table(listing: dict, title: str) -> Group:
    """A page of search results, the page it is, and (when the registry could not be
    reached) that these are the cached templates."""
    columns = ("ID", "Name", "Domain", "Description", "Rating", "Downloads", "Author", "Updated")
    drawn = table(title, columns, no_wrap=("ID", "Rating", "Updated"), right=("Downloads",))
    for item in listing["items"]:
        name = Text(item.get("name", ""))
        if item.get("update_available"):
            name.append(f" ({UPDATE})", style="yellow")
        drawn.add_row(
            item["id"],
            name,
            Text(item.get("domain") or NONE),
            Text(item.get("description") or ""),
            rating(item),
            str(item.get("download_count", 0)),
            Text(author(item)),
            when(item.get("updated_at")),
        )
    parts: list = []
    if listing.get("offline"):
        parts.append(
            Text(
                "The registry cannot be reached: these are the templates kept on this computer.",
                style="yellow",
            )
        )
    page, pages, total = listing.get("page", 1), listing.get("pages", 1), listing.get("total", 0)
    parts += [drawn, Text(f"Page {page} of {max(pages, 1)} ({total} templates)")]
    return Group(*parts)


def published_details(view: dict) -> Group:
    """One published template as the hub shows it (`GET /api/community/templates/{id}`): its
    fields, versions, reviews, unusual patterns and text."""
    template = view["template"]
    version = template.get("version", "")
    if view.get("imported_version"):
        version += f" (you have {view['imported_version']})"
    rows: list[tuple[str, str | Text]] = [
        *front_matter(template),
        ("Author", author(template)),
        ("Version", version),
        ("Rating", rating(template)),
        ("Downloads", str(template.get("download_count", 0))),
        ("Updated", when(template.get("updated_at"))),
        ("Publisher key", template.get("public_key") or NONE),
    ]
    parts: list = []
    if view.get("offline"):
        parts.append(Text("The registry cannot be reached: this is the copy kept here.", "yellow"))
    if template.get("hidden"):
        parts.append(
            Text(f"Hidden by the registry's owner: {template.get('hidden_reason')}", "red")
        )
    parts.append(details(rows))
    versions = template.get("versions") or []
    if versions:
        drawn = table("Versions", ("Version", "Published", "sha256"), ("Version", "Published"))
        for v in versions:
            drawn.add_row(Text(v["version"]), when(v.get("published_at")), v.get("sha256") or NONE)
        parts.append(drawn)
    if template.get("reviews"):
        parts.append(reviews_table(template["reviews"]))
    parts += warnings_block(view.get("warnings") or [])
    parts += [Text(""), Text(template.get("content", ""))]
    return Group(*parts)


def warnings_block(warnings: list[dict]) -> list[Text]:
    """The unusual patterns found, one line each, under a heading (nothing when none)."""
    if not warnings:
        return []
    lines = [Text("Unusual patterns in this template:", style="bold yellow")]
    lines += [
        Text(f"• line {w.get('line', '?')}: {w.get('pattern', '')} — {w.get('excerpt', '')}")
        for w in warnings
    ]
    return lines


def reviews_table(reviews: list[dict]) -> Table:
    drawn = table("Reviews", ("Stars", "Review", "When"), no_wrap=("Stars", "When"))
    for r in reviews:
        stars = "★" * (r.get("rating") or 0) or NONE
        drawn.add_row(stars, Text(r.get("comment", "")), when(r.get("updated_at")))
    return drawn
