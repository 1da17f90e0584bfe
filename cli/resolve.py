"""Finding an expert from what a person typed: its id, or its exact, unique name. Pure."""

from __future__ import annotations

from cli.client import CliError


def resolve_expert(experts: list[dict], ref: str) -> dict:
    """The expert whose id is `ref`, else the one whose name is exactly `ref`."""
    for expert in experts:
        if expert["id"] == ref:
            return expert
    named = [e for e in experts if e["name"] == ref]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(e["id"] for e in named)
        raise CliError(f"{len(named)} experts are called {ref!r}; use an id instead: {ids}")
    folded = [e for e in experts if e["name"].casefold() == ref.casefold()]
    hint = f" (did you mean {folded[0]['name']!r}?)" if folded else ""
    raise CliError(f"there is no expert with the id or name {ref!r}{hint}")
