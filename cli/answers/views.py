"""How an expert's answers (its traces) and its model backend are shown."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from cli.render import details, table, when


def traces_table(traces: list[dict], title: str) -> Table:
    columns = ("Answer", "When", "Mode", "Question", "Score", "Rating", "Edited", "Model")
    drawn = table(title, columns, no_wrap=("Answer", "When"), right=("Score", "Rating"))
    for t in traces:
        score = t.get("score")
        feedback = t.get("feedback")
        drawn.add_row(
            t["answer_id"],
            when(t["created_at"]),
            t["mode"] if t["kind"] == "answer" else "draft",
            Text(t["question"][:60]),
            f"{score['score']:.1f}" if score else "…",
            "★" * feedback["rating"] if feedback else "",
            "yes" if feedback and feedback.get("edited_answer") else "",
            Text(t["model"]),
        )
    return drawn


def backend_details(backend: dict) -> Table:
    """Which model answers; for a server, where it is and whether a key is stored (never
    the key itself)."""
    rows = [("Answering", backend["label"]), ("Kind", backend["kind"])]
    if backend["kind"] != "local":
        rows += [
            ("Server", backend.get("base_url") or ""),
            ("Model", backend.get("model") or ""),
            ("API key", "set" if backend["api_key_set"] else "none"),
            ("Timeout", f"{backend['timeout_s']:g} s"),
        ]
    return details(rows)
