"""How dataset versions are shown: their counts by source, what was left out, whether one is
ready for training, and their examples."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from cli.render import NONE, details, status_text, table, when


def counted(counts: dict[str, int]) -> str:
    """`{"manual": 12, "knowledge": 3}` as "manual 12, knowledge 3" ("–" when empty)."""
    return ", ".join(f"{name} {n}" for name, n in counts.items() if n) or NONE


def readiness(view: dict) -> Text:
    if view["ready_for_training"]:
        return Text("ready for training", style="green")
    missing = view["min_examples"] - view["train_examples"] - view["val_examples"]
    return Text(f"needs {max(missing, 0)} more examples before training", style="yellow")


def datasets_table(views: list[dict], title: str = "Datasets") -> Table:
    numbers = {v["id"]: v["version"] for v in views}
    columns = ("Version", "ID", "Status", "Train", "Val", "Sources", "Left out", "Created")
    drawn = table(title, columns, no_wrap=("ID", "Status", "Created"))
    for v in views:
        parent = v.get("parent")
        version = str(v["version"])
        if parent:
            version += f" (from {numbers.get(parent, parent)})"
        drawn.add_row(
            version,
            v["id"],
            status_text(v["status"]),
            str(v["train_examples"]),
            str(v["val_examples"]),
            counted(v["sources"]),
            counted(v["rejected"]),
            when(v["created_at"]),
        )
    return drawn


def dataset_details(view: dict) -> Table:
    rows = [
        ("Dataset", f"{view['id']} (version {view['version']})"),
        ("Status", status_text(view["status"])),
        ("Examples", f"{view['train_examples']} train, {view['val_examples']} val"),
        ("Sources", counted(view["sources"])),
        ("Left out", counted(view["rejected"])),
        ("Training", readiness(view)),
    ]
    if view.get("parent"):
        rows.append(("Edited from", view["parent"]))
    if view.get("reason"):
        rows.append(("Reason", Text(view["reason"], style="red")))
    return details(rows)


def examples_table(examples: list[dict], title: str) -> Table:
    drawn = Table(title=title, title_justify="left", show_lines=True)
    drawn.add_column("Source", no_wrap=True)
    drawn.add_column("Question", ratio=1)
    drawn.add_column("Answer", ratio=2)
    drawn.add_column("Split", no_wrap=True)
    for e in examples:
        said = {m["role"]: m["content"] for m in e["messages"]}
        drawn.add_row(
            e["source"], Text(said.get("user", "")), Text(said.get("assistant", "")), e["split"]
        )
    return drawn
