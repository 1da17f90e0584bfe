"""Pure parts of the CLI: which expert a person meant."""

from __future__ import annotations

import pytest

from cli.client import CliError
from cli.resolve import resolve_expert

EXPERTS = [
    {"id": "a1", "name": "Ada"},
    {"id": "b2", "name": "Grace"},
    {"id": "c3", "name": "Grace"},
    {"id": "Ada", "name": "Named like an id"},
]


def test_an_id_wins_over_a_name():
    assert resolve_expert(EXPERTS, "Ada")["id"] == "Ada"
    assert resolve_expert(EXPERTS, "b2")["name"] == "Grace"


def test_an_exact_unique_name():
    assert resolve_expert(EXPERTS[:2], "Ada")["id"] == "a1"


def test_an_ambiguous_name_lists_the_ids():
    with pytest.raises(CliError, match="2 experts are called 'Grace'.*b2, c3"):
        resolve_expert(EXPERTS, "Grace")


def test_an_unknown_name_suggests_a_near_miss():
    with pytest.raises(CliError, match="did you mean 'Ada'"):
        resolve_expert(EXPERTS[:2], "ada")
    with pytest.raises(CliError, match="no expert"):
        resolve_expert(EXPERTS, "Linus")


def test_the_groups_go_by_their_context_and_the_earlier_names_still_answer():
    import typer
    from typer.testing import CliRunner

    from cli.main import app

    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200", "NO_COLOR": "1"}).stdout
    groups = typer.main.get_command(app).commands
    for old, new in (("train", "trainer"), ("adapters", "registry"), ("bench", "benchmark")):
        assert f" {new} " in shown and f" {old} " not in shown
        assert groups[old].hidden and not groups[new].hidden
        assert sorted(groups[old].commands) == sorted(groups[new].commands)
