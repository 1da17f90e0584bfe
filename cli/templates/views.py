"""How `simtune templates` shows templates: the table of a person's templates, one template
with its versions, and the warnings about what it contains. Every field a person (or a
stranger, for an imported template) wrote is a `Text`, never read as Rich markup."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cli.render import NONE, details, table, when


def source(template: dict) -> str:
    """Where a template came from, in a word or two."""
    imported = template.get("imported_from")
    if imported:
        return f"imported {imported.get('registry_id', '')}@{imported.get('version', '')}"
    forked = template.get("forked_from")
    if forked:
        return f"fork of {forked.get('template_id') or forked.get('registry_id')}"
    return "yours"


def published_as(template: dict) -> str:
    shared = template.get("published_as")
    return f"{shared['registry_id']}@{shared['version']}" if shared else NONE


def templates_table(templates: list[dict], title: str) -> Table:
    columns = ("ID", "Name", "Domain", "Version", "Source", "Applied to", "Published as")
    drawn = table(title, columns, no_wrap=("ID", "Version"))
    for t in templates:
        drawn.add_row(
            t["id"],
            Text(t.get("name", "")),
            Text(t.get("domain", "") or NONE),
            Text(t.get("version", "") + (f" ({update})" if (update := updated(t)) else "")),
            Text(source(t)),
            Text(", ".join(t.get("applied_to") or []) or NONE),
            Text(published_as(t)),
        )
    return drawn


def updated(template: dict) -> str:
    """ "update X available" for an imported copy the registry has a newer version of."""
    newer = template.get("update_available")
    return f"update {newer} available" if newer else ""


def warnings_lines(warnings: list[dict]) -> list[Text]:
    """One line per finding: the line of the template, the pattern, what was seen."""
    return [
        Text(f"• line {w.get('line', '?')}: {w.get('pattern', '')} — {w.get('excerpt', '')}")
        for w in warnings
    ]


def front_matter(template: dict) -> list[tuple[str, str | Text]]:
    """The id and what a template's front matter says of it, as rows of `details`: the same
    for a person's own template and a published one."""
    return [
        ("Template", template["id"]),
        ("Name", template.get("name", "")),
        ("Description", template.get("description") or NONE),
        ("Domain", template.get("domain") or NONE),
        ("Methodology", template.get("methodology") or NONE),
        ("Keywords", ", ".join(template.get("keywords") or []) or NONE),
    ]


def template_details(template: dict, content: bool = True) -> Group:
    """Every field of a template, its versions, its warnings, then (with `content`) its text."""
    rows = [
        *front_matter(template),
        ("Version", template.get("version", "")),
        ("Source", source(template)),
        ("Applied to", ", ".join(template.get("applied_to") or []) or NONE),
        ("Published as", published_as(template)),
    ]
    parts: list = [details(rows)]
    versions = template.get("versions") or []
    if versions:
        drawn = table("Versions", ("Version", "Saved", "sha256"), ("Version", "Saved", "sha256"))
        for v in versions:
            drawn.add_row(Text(v["version"]), when(v.get("created_at")), v.get("sha256") or NONE)
        parts.append(drawn)
    if template.get("warnings"):
        parts.append(Text("Unusual patterns:", style="bold yellow"))
        parts += warnings_lines(template["warnings"])
    if content:
        parts += [Text(""), Text(template.get("content", ""))]
    return Group(*parts)
