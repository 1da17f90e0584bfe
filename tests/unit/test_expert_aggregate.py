"""Expert aggregate: given events, when a command, then an event (or a refusal)."""

from functools import reduce

import pytest

from contracts.base import DomainError
from contracts.expert import (
    CreateExpert,
    DeleteExpert,
    ExpertCreated,
    ExpertDeleted,
    ExpertUpdated,
    Profile,
    ProfilePatch,
    StyleGuide,
    UpdateExpert,
)
from services.expert.domain import profile as domain


def given(*events):
    return reduce(domain.evolve, events, domain.INITIAL)


CREATED = ExpertCreated(expert_id="e1", profile=Profile(name="Ada", domain="maths"))


def test_create_trims_the_name_and_keeps_the_profile():
    event = domain.decide_create(
        given(), CreateExpert(profile=Profile(name="  Ada  ", goals=["teach"])), "e1"
    )
    assert event == ExpertCreated(expert_id="e1", profile=Profile(name="Ada", goals=["teach"]))


@pytest.mark.parametrize("name", ["", "   "])
def test_create_refuses_an_empty_name(name):
    with pytest.raises(DomainError) as err:
        domain.decide_create(given(), CreateExpert(profile=Profile(name=name)), "e1")
    assert err.value.code == "invalid" and "name" in err.value.detail


def test_create_twice_is_a_conflict():
    with pytest.raises(DomainError) as err:
        domain.decide_create(given(CREATED), CreateExpert(profile=Profile(name="Ada")), "e1")
    assert err.value.code == "conflict"


def test_update_changes_only_the_fields_sent():
    patch = ProfilePatch(style_guide=StyleGuide(tone="warm", do=["cite pages"]))
    event = domain.decide_update(given(CREATED), UpdateExpert(expert_id="e1", changes=patch))
    state = domain.evolve(given(CREATED), event)
    assert state.profile.domain == "maths"
    assert state.profile.style_guide.tone == "warm"
    assert state.version == 2


def test_update_that_changes_nothing_appends_nothing():
    same = ProfilePatch(domain="maths")
    assert domain.decide_update(given(CREATED), UpdateExpert(expert_id="e1", changes=same)) is None


def test_update_with_a_stale_version_is_a_conflict():
    state = given(CREATED, ExpertUpdated(expert_id="e1", changes=ProfilePatch(domain="physics")))
    cmd = UpdateExpert(expert_id="e1", changes=ProfilePatch(domain="chem"), expected_version=1)
    with pytest.raises(DomainError) as err:
        domain.decide_update(state, cmd)
    assert err.value.code == "conflict" and "version 2" in err.value.detail


def test_deleted_expert_cannot_be_updated_or_deleted_again():
    state = given(CREATED, ExpertDeleted(expert_id="e1"))
    for decide in (
        lambda: domain.decide_update(
            state, UpdateExpert(expert_id="e1", changes=ProfilePatch(domain="x"))
        ),
        lambda: domain.decide_delete(state, DeleteExpert(expert_id="e1")),
    ):
        with pytest.raises(DomainError) as err:
            decide()
        assert err.value.code == "not_found"
