"""`simtune templates`: a person's own reasoning templates — list, show, create, edit, apply
to an expert, publish to the registry, fork.

A template is a Markdown file with YAML front matter (name, description, domain,
methodology, keywords, version); `create` and `edit` read it from a file, so it is written in
any editor and kept wherever the person keeps text. TEMPLATE arguments are an id or the
exact name of one of the person's templates."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.args import ExpertArg, JsonOption, find_expert, input_file
from cli.client import Client, CliError, client_from, command
from cli.render import print_list, print_one, say
from cli.resolve import pick
from cli.templates.views import template_details, templates_table

app = typer.Typer(
    help="Your reasoning templates: list, create, edit, apply to an expert, publish, fork.",
    no_args_is_help=True,
)

TemplateArg = typer.Argument(..., metavar="TEMPLATE", help="The template's id or exact name.")
NONE_WORD = "none"


def listed(client: Client) -> list[dict]:
    """The person's templates (`GET /api/templates`)."""
    reply = client.get("/api/templates")
    return reply["items"]


def resolve_template(templates: list[dict], ref: str) -> dict:
    """The template whose id is `ref`, else the only one whose name is exactly `ref`."""
    return pick(
        templates,
        ref,
        lambda t: t.get("name") == ref,
        f"templates are called {ref!r}; use an id instead",
        lambda: f"you have no template with the id or name {ref!r} (see: simtune templates list)",
    )


def find_template(client: Client, ref: str) -> dict:
    """The whole template (`GET /api/templates/{id}`) that `ref` names."""
    found = resolve_template(listed(client), ref)
    return client.get(f"/api/templates/{found['id']}")


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{path} is not UTF-8 text") from exc
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc


def name_of(template: dict) -> str:
    return template.get("name") or template["id"]


TemplateFile = input_file("FILE.md", "Markdown with YAML front matter (name, version, ...).")


@command(app, "list")
def list_templates(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """List your templates: your own, forks and imported ones."""
    templates = listed(client_from(ctx))
    empty = (
        "You have no templates yet. Write one (simtune templates create FILE.md) or import one"
        " from the community (simtune community search)."
    )
    print_list(templates, templates_table, empty, "Your templates", as_json)


@command(app, "show")
def show(ctx: typer.Context, template: str = TemplateArg, as_json: bool = JsonOption) -> None:
    """Show a template: its fields, versions, any unusual patterns, and its text."""
    print_one(find_template(client_from(ctx), template), template_details, as_json)


@command(app, "create")
def create(ctx: typer.Context, file: Path = TemplateFile) -> None:
    """Create a template from a Markdown file with YAML front matter."""
    created = client_from(ctx).request("POST", "/api/templates", json={"content": read_text(file)})
    say(f"Created template {name_of(created)} (id {created['id']}, version {created['version']}).")


@command(app, "edit")
def edit(ctx: typer.Context, template: str = TemplateArg, file: Path = TemplateFile) -> None:
    """Save a new version of a template from a file (its front matter's version must grow)."""
    client = client_from(ctx)
    found = find_template(client, template)
    body = {"content": read_text(file), "expected_version": found["version"]}
    edited = client.request("PUT", f"/api/templates/{found['id']}", json=body)
    say(f"Saved {name_of(edited)} version {edited['version']} (was {found['version']}).")


@command(app, "apply")
def apply(
    ctx: typer.Context,
    expert: str = ExpertArg,
    template: str = typer.Argument(
        ..., metavar="TEMPLATE|none", help="The template to answer with, or none to remove it."
    ),
    version: str | None = typer.Option(
        None, "--version", help="A version of the template (default: its newest)."
    ),
) -> None:
    """Make an expert answer with a template (its system prompt), or with none."""
    client = client_from(ctx)
    found_expert = find_expert(client, expert)
    body: dict = {"template_id": None, "version": None}
    if template != NONE_WORD:
        found = resolve_template(listed(client), template)
        body = {"template_id": found["id"], "version": version}
    elif version is not None:
        raise CliError("--version names a version of a template: leave it out with none")
    client.request("POST", f"/api/experts/{found_expert['id']}/template", json=body)
    if template == NONE_WORD:
        say(f"{found_expert['name']} answers without a template now.")
        return
    which = f" version {version}" if version else ""
    say(f"{found_expert['name']} answers with {name_of(found)}{which} now.")


@command(app, "publish")
def publish(
    ctx: typer.Context,
    template: str = TemplateArg,
    author: str = typer.Option(
        "", "--author", help="The name shown as its author (default: anonymous)."
    ),
) -> None:
    """Publish a template to the community registry, signed with your key.

    Nothing leaves this machine when it holds something personal (an e-mail address, a phone
    number, ...): each finding is named with its line."""
    client = client_from(ctx)
    found = resolve_template(listed(client), template)
    body = {"author": author}
    published = client.request("POST", f"/api/templates/{found['id']}/publish", json=body)
    say(
        f"Published {name_of(found)} version {published['version']}"
        f" as {published['registry_id']}" + (f" by {author}." if author else " anonymously.")
    )


@command(app, "fork")
def fork(ctx: typer.Context, template: str = TemplateArg) -> None:
    """Copy a template to change it as your own (the copy remembers where it came from)."""
    client = client_from(ctx)
    found = resolve_template(listed(client), template)
    forked = client.request("POST", f"/api/templates/{found['id']}/fork")
    say(f"Forked {name_of(found)} as template {forked['id']}.")
