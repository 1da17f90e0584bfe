"""An expert's versions, pure: given events, when a request, then the event or the refusal."""

from __future__ import annotations

import pytest

from contracts.base import DomainError
from contracts.expert import ExpertCreated, ExpertUpdated, Profile, ProfilePatch
from contracts.registry import AdapterRegistered, whole_digest
from contracts.trainer import AdapterFile
from services.registry import bases, domain
from services.registry.bases import ExpertBase


def registered(adapter_id: str, **fields) -> AdapterRegistered:
    fields = {"source": "trained", "base_model": "tiny", **fields}
    return AdapterRegistered(
        adapter_id=adapter_id, expert_id="e1", backend="peft",
        created_at="2026-11-26T00:00:00+00:00", size_bytes=100, **fields,
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


def test_a_version_for_another_base_model_is_refused_naming_both_and_changes_nothing():
    state = given(registered("a"), registered("b", base_model="meta-llama/Llama-3.1-8B"))
    _, state = activated(state, "a")
    base = ExpertBase(named=None, install="/models/tiny")
    with pytest.raises(DomainError) as refused:
        domain.decide_activate(state, "e1", "b", None, "test", base=base)
    assert refused.value.code == "wrong_base_model" and refused.value.status == 422
    assert "trained on meta-llama/Llama-3.1-8B" in refused.value.detail
    assert "base model is /models/tiny" in refused.value.detail
    with pytest.raises(DomainError, match="trained on meta-llama"):
        domain.decide_rollback(state, "e1", "b", True, None, "test", base=base)
    # the same base model (a path to it, or another name of the bundled one) is activated
    assert domain.decide_activate(state, "e1", "a", None, "test", base=base) is None  # active
    fits = domain.decide_activate(state, "e1", None, None, "test", base=base)
    assert fits.adapter is None  # the base model itself always fits
    smol = given(registered("s", base_model="HuggingFaceTB/SmolLM2-135M-Instruct"))
    chosen = domain.decide_activate(smol, "e1", "s", None, "test", base=ExpertBase(None, "smollm2"))
    assert chosen.adapter.adapter_id == "s"


def test_the_expert_base_model_is_its_profiles_else_the_installs_and_follows_changes():
    created = ExpertCreated(expert_id="e1", profile=Profile(name="Ada"))
    named = ExpertCreated(expert_id="e1", profile=Profile(name="Ada", base_model="llama-3"))
    assert bases.declared(None, created) is None
    assert bases.declared(None, named) == "llama-3"
    unchanged = ExpertUpdated(expert_id="e1", changes=ProfilePatch(name="Bo"))
    assert bases.declared("llama-3", unchanged) == "llama-3"
    cleared = ExpertUpdated(expert_id="e1", changes=ProfilePatch(base_model=None))
    assert bases.declared("llama-3", cleared) is None
    assert ExpertBase(named=None, install="smollm2").model == "smollm2"
    assert ExpertBase(named="llama-3", install="smollm2").model == "llama-3"


def test_a_hosted_version_is_held_only_to_a_base_model_the_profile_names():
    hosted = registered("h", base_model="gpt-mini", provider_model="ft:gpt-mini:simtune:1")
    state = given(hosted)
    assert domain.decide_activate(state, "e1", "h", None, "test", base=ExpertBase(None, "smollm2"))
    with pytest.raises(DomainError, match="trained on gpt-mini"):
        domain.decide_activate(state, "e1", "h", None, "test", base=ExpertBase("llama", "smollm2"))


def test_an_import_registers_under_its_own_id_and_the_same_files_are_one_version():
    digest = "d" * 64
    state = given(registered("a", sha256=digest))
    assert domain.duplicate_of(state, digest).adapter_id == "a"
    assert domain.duplicate_of(state, "e" * 64) is None
    fresh = registered("c", source="imported", sha256="e" * 64)
    assert domain.decide_import(state, fresh) is fresh
    with pytest.raises(DomainError, match="already a version") as taken:
        domain.decide_import(state, registered("a", source="imported"))
    assert taken.value.status == 409
    deleted = domain.evolve(state, domain.decide_delete(state, "e1", "a", "test"))
    with pytest.raises(DomainError, match="already a version"):  # its history is that one's
        domain.decide_import(deleted, registered("a", source="imported"))
