"""How the CLI shows things (Rich tables and text; passages are never read as markup)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

console = Console(highlight=False)

STATUS_STYLE = {
    "uploaded": "yellow",
    "parsing": "yellow",
    "embedding": "yellow",
    "ready": "green",
    "rejected": "red",
}


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def experts_table(experts: list[dict]) -> Table:
    table = Table(title="Experts", title_justify="left")
    table.add_column("ID", no_wrap=True)
    table.add_column("Name")
    table.add_column("Domain")
    table.add_column("Created", no_wrap=True)
    for e in experts:
        table.add_row(e["id"], Text(e["name"]), Text(e["domain"]), e["created_at"][:10])
    return table


def expert_details(expert: dict, documents: list[dict]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    ready = sum(1 for d in documents if d["status"] == "ready")
    rows = [
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
    for label, value in rows:
        table.add_row(label, Text(value))
    return table


def documents_table(documents: list[dict], title: str = "Documents") -> Group:
    """The documents as a table; why a file was rejected follows below it, in full sentences
    (a narrow table column would chop them into a word per line)."""
    table = Table(title=title, title_justify="left")
    table.add_column("ID", no_wrap=True)
    table.add_column("File", overflow="fold")
    table.add_column("Status", no_wrap=True)
    table.add_column("Pages", justify="right")
    table.add_column("Passages", justify="right")
    notes = []
    for d in documents:
        table.add_row(
            d["id"],
            Text(d["filename"]),
            status_text(d["status"]),
            str(d.get("pages") or "–"),
            str(d.get("chunks") or "–"),
        )
        if d.get("reason"):
            note = Text(f"{d['filename']}: ", style="bold")
            note.append(d["reason"])
            notes.append(note)
    return Group(table, *notes)


def search_results(results: list[dict]) -> list[Text]:
    out: list[Text] = []
    for n, hit in enumerate(results, 1):
        head = Text(f"{n}. ", style="bold")
        head.append(hit["filename"], style="bold")
        head.append(f", page {hit['page']}  ")
        head.append(f"score {hit['score']:.3f}", style="dim")
        out += [head, Text("   " + " ".join(hit["text"].split())), Text("")]
    return out


# ---- datasets ------------------------------------------------------------------------------

DATASET_STYLE = {"building": "yellow", "ready": "green", "failed": "red", "cancelled": "red"}


def counted(counts: dict[str, int]) -> str:
    """`{"manual": 12, "knowledge": 3}` as "manual 12, knowledge 3" ("–" when empty)."""
    return ", ".join(f"{name} {n}" for name, n in counts.items() if n) or "–"


def readiness(view: dict) -> Text:
    if view["ready_for_training"]:
        return Text("ready for training", style="green")
    missing = view["min_examples"] - view["train_examples"] - view["val_examples"]
    return Text(f"needs {max(missing, 0)} more examples before training", style="yellow")


def datasets_table(views: list[dict], title: str = "Datasets") -> Table:
    numbers = {v["id"]: v["version"] for v in views}
    table = Table(title=title, title_justify="left")
    for name in ("Version", "ID", "Status", "Train", "Val", "Sources", "Left out", "Created"):
        table.add_column(name, no_wrap=name in ("ID", "Status", "Created"))
    for v in views:
        parent = v.get("parent")
        version = str(v["version"])
        if parent:
            version += f" (from {numbers.get(parent, parent)})"
        table.add_row(
            version,
            v["id"],
            Text(v["status"], style=DATASET_STYLE.get(v["status"], "")),
            str(v["train_examples"]),
            str(v["val_examples"]),
            counted(v["sources"]),
            counted(v["rejected"]),
            v["created_at"][:16].replace("T", " "),
        )
    return table


def dataset_details(view: dict) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("Dataset", Text(f"{view['id']} (version {view['version']})")),
        ("Status", Text(view["status"], style=DATASET_STYLE.get(view["status"], ""))),
        ("Examples", Text(f"{view['train_examples']} train, {view['val_examples']} val")),
        ("Sources", Text(counted(view["sources"]))),
        ("Left out", Text(counted(view["rejected"]))),
        ("Training", readiness(view)),
    ]
    if view.get("parent"):
        rows.append(("Edited from", Text(view["parent"])))
    if view.get("reason"):
        rows.append(("Reason", Text(view["reason"], style="red")))
    for label, value in rows:
        table.add_row(label, value)
    return table


def examples_table(examples: list[dict], title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("Source", no_wrap=True)
    table.add_column("Question", ratio=1)
    table.add_column("Answer", ratio=2)
    table.add_column("Split", no_wrap=True)
    for e in examples:
        said = {m["role"]: m["content"] for m in e["messages"]}
        table.add_row(
            e["source"],
            Text(said.get("user", "")),
            Text(said.get("assistant", "")),
            e["split"],
        )
    return table
