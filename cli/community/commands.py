"""`simtune community`: the templates people published — search the hub, show one, import it
(one command; a template with unusual patterns is shown with each pattern named and asks
first), rate it, review it, report it.

The hub is the registry at the gateway's `TEMPLATE_REGISTRY_URL` (its own, when unset); when
that cannot be reached, search lists the templates kept on this computer and says so."""

from __future__ import annotations

import typer

from cli.args import JsonOption, YesOption, one_of
from cli.client import Client, CliError, client_from, command
from cli.community.views import listing_table, published_details, warnings_block
from cli.render import console, print_one, printed_json, say

app = typer.Typer(
    help="Templates others published: search, show, import, rate, review, report.",
    no_args_is_help=True,
)

SORTS = ("popular", "rating", "newest", "used")
RegistryArg = typer.Argument(..., metavar="TEMPLATE_ID", help="The published template's id.")


def published(client: Client, registry_id: str) -> dict:
    """One published template, as the hub shows it before an import."""
    return client.get(f"/api/community/templates/{registry_id}")


def name_of(view: dict) -> str:
    """A published template's name (from the hub's view of it)."""
    template = view["template"]
    return template.get("name") or template["id"]


def feedback(ctx: typer.Context, template: str, action: str, body: dict, said: str) -> None:
    """Rate, review or report `template` through the hub, then say so."""
    client_from(ctx).request("POST", f"/api/community/templates/{template}/{action}", json=body)
    say(said)


def written(text: str, empty: str, what: str) -> str:
    """A review's comment or a report's reason: some text, at most 500 characters."""
    if not text.strip():
        raise CliError(empty)
    if len(text) > 500:
        raise CliError(f"{what} is at most 500 characters; this one has {len(text)}")
    return text


@command(app, "search")
def search(
    ctx: typer.Context,
    query: str = typer.Argument("", metavar="[WORDS]", help="Words in a name, description, ..."),
    domain: str = typer.Option("", "--domain", help="Only templates of this domain."),
    methodology: str = typer.Option(
        "", "--methodology", help="Only templates of this methodology."
    ),
    author: str = typer.Option("", "--author", help="Only templates by this author."),
    sort: str = typer.Option("popular", "--sort", help="popular, rating, newest or used."),
    page: int = typer.Option(1, "--page", min=1, max=10_000, help="Which page of 20."),
    as_json: bool = JsonOption,
) -> None:
    """Search the community's templates (20 a page)."""
    one_of("--sort", sort, SORTS)
    params = {"q": query, "domain": domain, "methodology": methodology, "author": author,
              "sort": sort, "page": page}  # fmt: skip
    listing = client_from(ctx).get("/api/community/templates", **params)
    if printed_json(listing, as_json):
        return
    if not listing["items"]:
        where = (
            " kept on this computer (the registry cannot be reached)"
            if listing.get("offline")
            else ""
        )
        narrowed = query or domain or methodology or author
        say(f"No templates{where} match." if narrowed else f"No templates{where} yet.")
        return
    title = f"Templates matching {query!r}" if query else "Community templates"
    console.print(listing_table(listing, title))


@command(app, "show")
def show(ctx: typer.Context, template: str = RegistryArg, as_json: bool = JsonOption) -> None:
    """Show a published template: its fields, rating, versions, unusual patterns and text."""
    print_one(published(client_from(ctx), template), published_details, as_json)


@command(app, "import")
def import_template(
    ctx: typer.Context,
    template: str = RegistryArg,
    version: str | None = typer.Option(None, "--version", help="A version (default: newest)."),
    yes: bool = YesOption,
) -> None:
    """Import a published template (or its newer version) to use it, offline too.

    Its signature is checked; unusual patterns are named and asked about first."""
    client = client_from(ctx)
    found = published(client, template)
    warnings = found.get("warnings") or []
    if warnings:
        for line in warnings_block(warnings):
            console.print(line)
        if not yes and not typer.confirm(f"Import {name_of(found)} anyway?", default=False):
            raise CliError("nothing was imported")
    body = {"version": version} if version else {}
    imported = client.request("POST", f"/api/community/templates/{template}/import", json=body)
    say(
        f"Imported {name_of(found)} version {imported['version']} as your template {imported['id']}."
    )


StarsArg = typer.Argument(..., min=1, max=5, metavar="RATING", help="1 to 5 stars.")


@command(app, "rate")
def rate(ctx: typer.Context, template: str = RegistryArg, rating: int = StarsArg) -> None:
    """Rate a template you imported (1–5 stars; rating again changes yours)."""
    said = f"Rated {template} {rating} {'star' if rating == 1 else 'stars'}."
    feedback(ctx, template, "rate", {"rating": rating}, said)


@command(app, "review")
def review(
    ctx: typer.Context,
    template: str = RegistryArg,
    rating: int = StarsArg,
    comment: str = typer.Argument(
        ..., metavar="COMMENT", help="Your review, at most 500 characters."
    ),
) -> None:
    """Review a template you imported: a rating and a comment (one review each; reviewing
    again replaces yours)."""
    body = {"rating": rating, "comment": written(comment, "a review needs a comment", "a review")}
    feedback(ctx, template, "review", body, f"Your review of {template} is saved.")


@command(app, "report")
def report(
    ctx: typer.Context,
    template: str = RegistryArg,
    reason: str = typer.Argument(..., metavar="REASON", help="What is wrong with it."),
) -> None:
    """Report a template to the registry's owner, who decides whether to hide it."""
    body = {"reason": written(reason, "say what is wrong with the template", "a reason")}
    feedback(
        ctx, template, "report", body, f"Reported {template}: the registry's owner will look at it."
    )
