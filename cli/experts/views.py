"""How `simtune experts` shows experts: a table of them, and one expert's profile."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from cli.render import details, table


def experts_table(experts: list[dict]) -> Table:
    drawn = table("Experts", ("ID", "Name", "Domain", "Created"), no_wrap=("ID", "Created"))
    for e in experts:
        drawn.add_row(e["id"], Text(e["name"]), Text(e["domain"]), e["created_at"][:10])
    return drawn


def expert_details(expert: dict, documents: list[dict]) -> Table:
    ready = sum(1 for d in documents if d["status"] == "ready")
    return details(
        [
            ("Name", expert["name"]),
            ("ID", expert["id"]),
            ("Domain", expert["domain"] or "—"),
            ("Description", expert["description"] or "—"),
            ("Goals", "\n".join(f"• {g}" for g in expert["goals"]) or "—"),
            ("Influences", ", ".join(expert["influences"]) or "—"),
            ("Documents", f"{len(documents)} ({ready} ready)"),
            ("Version", str(expert["version"])),
            ("Created", expert["created_at"]),
        ]
    )
