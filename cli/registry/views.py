"""How `simtune registry` words and draws adapter versions: sizes, which one is active, and
the tables of an expert's versions, of one version, and of the audit trail."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cli.render import NONE, details, loss, table, when

ACTIVE = "●"
OUTCOME_STYLE = {"succeeded": "green", "refused": "red"}


def size(n: int | None) -> str:
    """Bytes as a person reads them: 812 B, 4.1 kB, 12.3 MB (powers of 1000, like `ls --si`)."""
    if n is None:
        return NONE
    units = ("B", "kB", "MB", "GB")
    value, power = float(n), 0
    while value >= 1000 and power < len(units) - 1:
        value, power = value / 1000, power + 1
    return f"{n} B" if power == 0 else f"{value:.1f} {units[power]}"


def named(adapter_id: str | None) -> str:
    """An adapter id, or "the base model" where there is none (the API's null)."""
    return adapter_id or "the base model"


def validity(adapter: dict) -> Text:
    return Text("valid", style="green") if adapter["valid"] else Text("invalid", style="red")


def adapters_table(adapters: list[dict], title: str) -> Group:
    """One row per version, the active one marked; the line below says which one answers,
    so "none marked" is never mistaken for "no adapter could be found"."""
    columns = ("", "ID", "Created", "Source", "Tags", "Valid", "Train loss", "Val loss")
    drawn = table(
        title, (*columns, "Traces", "Size"), ("", "ID", "Created", "Size"), ("Traces", "Size")
    )
    for a in adapters:
        metrics = a.get("metrics") or {}
        drawn.add_row(
            Text(ACTIVE, style="green") if a["is_active"] else "",
            a["id"],
            when(a["created_at"]),
            a.get("source", "trained"),
            Text(", ".join(a["tags"]) or NONE),
            validity(a),
            loss(metrics.get("train_loss")),
            loss(metrics.get("val_loss")),
            str(a.get("traces_used", 0)),
            size(a["size_bytes"]),
        )
    active = next((a["id"] for a in adapters if a["is_active"]), None)
    return Group(drawn, Text(f"Active: {active}" if active else "Active: base model"))


def adapter_details(adapter: dict) -> Group:
    """Every field of a version, then its files with their sha256, then its problems."""
    metrics = adapter.get("metrics") or {}
    rows = [
        ("Adapter", adapter["id"]),
        ("Expert", adapter["expert_id"]),
        ("Active", "yes" if adapter["is_active"] else "no"),
        ("Valid", validity(adapter)),
        ("Source", adapter.get("source", "trained")),
        ("Created", adapter["created_at"]),
        ("Registered", adapter.get("registered_at") or NONE),
        ("Base model", adapter["base_model"]),
        ("Backend", adapter["backend"]),
        ("Provider model", adapter.get("provider_model") or NONE),
        ("Run", adapter.get("run_id") or NONE),
        ("Dataset", adapter.get("dataset_id") or NONE),
        ("Archive", adapter.get("filename") or NONE),
        ("Tags", ", ".join(adapter["tags"]) or NONE),
        ("Traces used", str(adapter.get("traces_used", 0))),
        ("Size", f"{size(adapter['size_bytes'])} ({adapter['size_bytes']:,} bytes)"),
        ("sha256", adapter.get("sha256") or NONE),
    ]
    rows += [(key.replace("_", " ").capitalize(), str(value)) for key, value in metrics.items()]
    config = adapter.get("config") or {}
    if config:
        rows.append(("Config", ", ".join(f"{k}={v}" for k, v in config.items())))
    parts: list = [details(rows)]
    if adapter.get("files"):
        files = table("Files", ("Name", "Size", "sha256"), ("Name", "Size", "sha256"), ("Size",))
        for f in adapter["files"]:
            files.add_row(Text(f["name"]), size(f["size"]), f["sha256"])
        parts.append(files)
    if adapter.get("problems"):
        parts.append(Text("Problems:", style="bold red"))
        parts += [Text(f"• {p}") for p in adapter["problems"]]
    return Group(*parts)


def audit_table(entries: list[dict], title: str) -> Table:
    columns = ("At", "Action", "Outcome", "Adapter", "Before", "By", "Reason")
    drawn = table(title, columns, no_wrap=columns[:5])
    for e in entries:
        drawn.add_row(
            when(e["at"]),
            e["action"],
            Text(e["outcome"], style=OUTCOME_STYLE.get(e["outcome"], "")),
            e.get("adapter_id") or NONE,
            e.get("previous_adapter_id") or NONE,
            e.get("by") or NONE,
            Text(e.get("reason") or ""),
        )
    return drawn
