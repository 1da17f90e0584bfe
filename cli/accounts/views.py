"""How `simtune keys` shows a person's API keys: never the keys, only their prefixes."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from cli.render import NONE, table, when


def scopes(names: list[str]) -> str:
    return ", ".join(names) or NONE


def keys_table(keys: list[dict], title: str) -> Table:
    columns = ("ID", "Name", "Key", "Scopes", "Created", "Expires", "Last used")
    drawn = table(title, columns, no_wrap=("ID", "Key", "Created", "Expires", "Last used"))
    for key in keys:
        drawn.add_row(
            key["id"],
            Text(key["name"]),
            f"{key['prefix']}…",
            scopes(key["scopes"]),
            when(key["created_at"]),
            lasting(key),
            when(key["last_used_at"]),
        )
    return drawn


def lasting(key: dict) -> Text:
    """Until when a key works: revoked (in red), its expiry, or never."""
    if key.get("revoked"):
        return Text("revoked", style="red")
    return Text(when(key["expires_at"]) if key["expires_at"] else "never")


def expiry(stamp: str | None) -> str:
    return f"expires {when(stamp)} UTC" if stamp else "never expires"
