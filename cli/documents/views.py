"""How an expert's documents and what a search found are shown."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from cli.render import NONE, status_text, table


def documents_table(documents: list[dict], title: str = "Documents") -> Group:
    """The documents as a table; why a file was rejected follows below it, in full sentences
    (a narrow table column would chop them into a word per line)."""
    columns = ("ID", "File", "Status", "Pages", "Passages")
    drawn = table(title, columns, no_wrap=("ID", "Status"), right=("Pages", "Passages"))
    drawn.columns[1].overflow = "fold"
    notes = []
    for d in documents:
        drawn.add_row(
            d["id"],
            Text(d["filename"]),
            status_text(d["status"]),
            str(d.get("pages") or NONE),
            str(d.get("chunks") or NONE),
        )
        if d.get("reason"):
            note = Text(f"{d['filename']}: ", style="bold")
            note.append(d["reason"])
            notes.append(note)
    return Group(drawn, *notes)


def search_results(results: list[dict]) -> Group:
    """Each passage found: its file and page, its score, its text on one line."""
    out: list[Text] = []
    for n, hit in enumerate(results, 1):
        head = Text(f"{n}. ", style="bold")
        head.append(hit["filename"], style="bold")
        head.append(f", page {hit['page']}  ")
        head.append(f"score {hit['score']:.3f}", style="dim")
        out += [head, Text("   " + " ".join(hit["text"].split())), Text("")]
    return Group(*out)
