"""How `simtune admin users` shows the people who can sign in."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from cli.render import table, when

ROLE_STYLE = {"owner": "bold", "member": ""}


def users_table(users: list[dict], title: str) -> Table:
    drawn = table(title, ("Email", "Role", "User ID", "Created"), no_wrap=("User ID", "Created"))
    for user in users:
        role = Text(user["role"], style=ROLE_STYLE.get(user["role"], ""))
        drawn.add_row(Text(user["email"]), role, user["user_id"], when(user["created_at"]))
    return drawn
