"""How the read models' state is shown: one row per projection, its checkpoint and lag."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from cli.render import NONE, table

STATE_STYLE = {"running": "green", "rebuilding": "yellow", "waiting": "yellow", "stuck": "red"}


def status_table(overview: dict) -> Table:
    columns = ("Service", "Projection", "State", "Checkpoint", "Lag")
    drawn = table("Projections", columns, no_wrap=columns, right=("Lag",))
    drawn.add_column("Detail", overflow="fold")
    for p in overview["projections"]:
        checkpoints = ", ".join(f"{s} {seq}" for s, seq in sorted(p.get("checkpoints", {}).items()))
        drawn.add_row(
            p.get("service", ""),
            p["name"],
            Text(p["state"], style=STATE_STYLE.get(p["state"], "")),
            checkpoints or NONE,
            str(p.get("lag", 0)),
            Text(p.get("detail") or ""),
        )
    return drawn
