"""An expert's versions, pure: given events, when a request, then the event or the refusal."""

from __future__ import annotations

import pytest

from contracts.base import DomainError
from contracts.registry import AdapterRegistered, whole_digest
from contracts.trainer import AdapterFile
from services.registry import domain


def registered(adapter_id: str, **fields) -> AdapterRegistered:
    return AdapterRegistered(
        adapter_id=adapter_id, expert_id="e1", source="trained", base_model="tiny",
        backend="peft", created_at="2026-11-26T00:00:00+00:00", size_bytes=100, **fields,
    )  # fmt: skip


def given(*events) -> domain.Versions:
    state = domain.INITIAL
    for event in events:
        state = domain.evolve(state, event)
    return state


def activated(state, adapter_id, expected=None):
    event = domain.decide_activate(state, "e1", adapter_id, expected, "test")
    return event, domain.evolve(state, event)


def test_activations_stack_up_and_a_rollback_undoes_the_newest():
    state = given(registered("a"), registered("b"))
    first, state = activated(state, "a")
    assert first.previous_adapter_id is None and first.version == 1
    second, state = activated(state, "b")
    assert second.previous_adapter_id == "a" and state.active == "b"

    back = domain.decide_rollback(state, "e1", None, False, None, "test")
    assert back.adapter.adapter_id == "a" and back.previous_adapter_id == "b"
    state = domain.evolve(state, back)
    to_base = domain.decide_rollback(state, "e1", None, False, None, "test")
    assert to_base.adapter is None and domain.evolve(state, to_base).active is None


def test_rollback_to_a_chosen_version_can_itself_be_undone():
    state = given(registered("a"), registered("b"))
    _, state = activated(state, "a")
    chosen = domain.decide_rollback(state, "e1", "b", True, None, "test")
    state = domain.evolve(state, chosen)
    assert state.active == "b"
    undo = domain.decide_rollback(state, "e1", None, False, None, "test")
    assert undo.adapter.adapter_id == "a"


def test_nothing_to_roll_back_to_is_said_plainly():
    with pytest.raises(DomainError, match="nothing to roll back to"):
        domain.decide_rollback(given(registered("a")), "e1", None, False, None, "test")


def test_a_stale_expected_version_is_refused_and_activating_the_active_one_changes_nothing():
    state = given(registered("a"))
    _, state = activated(state, "a")
    with pytest.raises(DomainError, match="changed since you looked") as stale:
        domain.decide_activate(state, "e1", "a", 0, "test")
    assert stale.value.status == 409
    assert domain.decide_activate(state, "e1", "a", 1, "test") is None


def test_an_invalid_or_deleted_version_cannot_be_activated():
    bad = registered("a", valid=False, problems=["adapter_config.json is missing"])
    with pytest.raises(DomainError, match="is invalid .* adapter_config.json is missing"):
        domain.decide_activate(given(bad), "e1", "a", None, "test")
    state = given(registered("b"))
    state = domain.evolve(state, domain.decide_delete(state, "e1", "b", "test"))
    with pytest.raises(DomainError, match="was deleted") as gone:
        domain.decide_activate(state, "e1", "b", None, "test")
    assert gone.value.status == 404


def test_the_active_and_the_stable_versions_are_kept():
    state = given(registered("a"), registered("b", tags=["stable"]))
    _, state = activated(state, "a")
    with pytest.raises(DomainError, match="is active"):
        domain.decide_delete(state, "e1", "a", "test")
    with pytest.raises(DomainError, match="tagged 'stable'"):
        domain.decide_delete(state, "e1", "b", "test")
    untag = domain.decide_tag(state, "e1", "b", [], ["stable"], "test")
    deleted = domain.decide_delete(domain.evolve(state, untag), "e1", "b", "test")
    assert deleted.freed_bytes == 100


def test_tags_are_added_once_and_an_unchanged_set_records_nothing():
    state = given(registered("a", tags=["old"]))
    tagged = domain.decide_tag(state, "e1", "a", ["stable", " stable ", "q3"], ["old"], "test")
    assert tagged.tags == ["stable", "q3"] and tagged.added == ["stable", "q3"]
    assert tagged.removed == ["old"]
    assert domain.decide_tag(domain.evolve(state, tagged), "e1", "a", ["q3"], [], "test") is None


def test_a_check_is_recorded_when_it_changes_something_or_when_asked():
    state = given(registered("a"))
    assert domain.decide_checked(state, "e1", "a", [], "test", always=False) is None
    assert domain.decide_checked(state, "e1", "a", [], "test", always=True).valid
    broken = domain.decide_checked(state, "e1", "a", ["x is missing"], "test", always=False)
    assert broken.valid is False and domain.evolve(state, broken).versions["a"].problems


def test_the_whole_digest_does_not_depend_on_the_order_of_the_files():
    one = AdapterFile(name="a.json", sha256="1" * 64, size=1)
    two = AdapterFile(name="b.safetensors", sha256="2" * 64, size=2)
    assert whole_digest([one, two]) == whole_digest([two, one])
    assert whole_digest([one]) != whole_digest([one, two])
