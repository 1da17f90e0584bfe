"""Finding what a person typed: an expert by its id or its exact, unique name; one of an
expert's adapter versions by its id or a unique start of it. Pure."""

from __future__ import annotations

from collections.abc import Callable

from cli.client import CliError


def pick(
    items: list[dict],
    ref: str,
    matches: Callable[[dict], bool],
    several: str,
    missing: Callable[[], str],
) -> dict:
    """The item whose id is `ref`, else the only one that `matches`: how every reference a
    person types is looked up. Several matching is an error that starts with how many, then
    `several`, then their ids; none, the error `missing()` words."""
    for item in items:
        if item["id"] == ref:
            return item
    found = [item for item in items if matches(item)]
    if len(found) == 1:
        return found[0]
    if found:
        ids = ", ".join(item["id"] for item in found)
        raise CliError(f"{len(found)} {several}: {ids}")
    raise CliError(missing())


def resolve_expert(experts: list[dict], ref: str) -> dict:
    """The expert whose id is `ref`, else the one whose name is exactly `ref`."""

    def missing() -> str:
        folded = [e for e in experts if e["name"].casefold() == ref.casefold()]
        hint = f" (did you mean {folded[0]['name']!r}?)" if folded else ""
        return f"there is no expert with the id or name {ref!r}{hint}"

    several = f"experts are called {ref!r}; use an id instead"
    return pick(experts, ref, lambda e: e["name"] == ref, several, missing)


def resolve_adapter(adapters: list[dict], ref: str, expert_name: str) -> dict:
    """The version whose id is `ref`, else the only one whose id starts with it. Looked up
    among one expert's versions only, so a command never touches another expert's adapter."""
    ref = ref.strip()
    if not ref:
        raise CliError("an adapter id (or the start of one) is needed")
    return pick(
        adapters,
        ref,
        lambda a: a["id"].startswith(ref),
        f"adapters of {expert_name} start with {ref!r}",
        lambda: (
            f"{expert_name} has no adapter whose id starts with {ref!r}"
            f" (see: simtune registry list {expert_name!r})"
        ),
    )
