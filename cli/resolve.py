"""Finding what a person typed: an expert by its id or its exact, unique name; one of an
expert's adapter versions by its id or a unique start of it. Pure."""

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


def resolve_adapter(adapters: list[dict], ref: str, expert_name: str) -> dict:
    """The version whose id is `ref`, else the only one whose id starts with it. Looked up
    among one expert's versions only, so a command never touches another expert's adapter."""
    ref = ref.strip()
    if not ref:
        raise CliError("an adapter id (or the start of one) is needed")
    for adapter in adapters:
        if adapter["id"] == ref:
            return adapter
    matches = [a for a in adapters if a["id"].startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        ids = ", ".join(a["id"] for a in matches)
        raise CliError(f"{len(matches)} adapters of {expert_name} start with {ref!r}: {ids}")
    raise CliError(
        f"{expert_name} has no adapter whose id starts with {ref!r}"
        f" (see: simtune registry list {expert_name!r})"
    )
