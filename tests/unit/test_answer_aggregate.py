"""The Answer aggregate and the expert's backend decision: given events, when a command,
then an event (or a refusal)."""

from __future__ import annotations

import pytest

from contracts.answers import (
    AnswerGiven,
    AnswerScored,
    BackendConfigured,
    ConfigureBackend,
    FeedbackGiven,
    GiveFeedback,
)
from contracts.base import DomainError
from contracts.expert import CreateExpert, Profile
from services.expert.domain import answers as answer_domain
from services.expert.domain import profile as domain


def replay(module, events):
    state = module.INITIAL
    for event in events:
        state = module.evolve(state, event)
    return state


GIVEN = AnswerGiven(
    answer_id="a1",
    expert_id="e1",
    mode="closed",
    question="Why?",
    answer="Because.",
    backend="local",
    model="tiny",
)


def scored(version: str) -> AnswerScored:
    return AnswerScored(answer_id="a1", expert_id="e1", score=5.0, scorer_version=version)


def test_feedback_on_an_answer_names_its_expert_and_tidies_tags():
    state = replay(answer_domain, [GIVEN])
    cmd = GiveFeedback(answer_id="a1", rating=4, tags=[" b ", "a", "b", ""], comment=" ok ")
    event = answer_domain.decide_feedback(state, cmd)
    assert event == FeedbackGiven(
        answer_id="a1", expert_id="e1", rating=4, tags=["a", "b"], comment="ok"
    )


def test_an_unchanged_or_empty_edit_is_no_edit():
    state = replay(answer_domain, [GIVEN])
    for edit in ("Because.", "   "):
        cmd = GiveFeedback(answer_id="a1", rating=3, edited_answer=edit)
        assert answer_domain.decide_feedback(state, cmd).edited_answer is None


def test_feedback_on_a_missing_answer_is_not_found():
    with pytest.raises(DomainError) as err:
        answer_domain.decide_feedback(answer_domain.INITIAL, GiveFeedback(answer_id="x", rating=1))
    assert err.value.code == "not_found"


def test_feedback_counts_and_each_scorer_version_scores_once():
    state = replay(
        answer_domain, [GIVEN, scored("1"), FeedbackGiven(answer_id="a1", expert_id="e1", rating=2)]
    )
    assert state.feedback == 1
    assert answer_domain.decide_score(state, scored("1")) is None
    assert answer_domain.decide_score(state, scored("2")) == scored("2")


def test_an_answer_is_given_once():
    with pytest.raises(DomainError):
        answer_domain.decide_given(replay(answer_domain, [GIVEN]), GIVEN)


EXPERT = replay(
    domain,
    [domain.decide_create(domain.INITIAL, CreateExpert(profile=Profile(name="Ada")), "e1")],
)


def configure(state, **fields) -> BackendConfigured | None:
    cmd = ConfigureBackend(expert_id="e1", **fields)
    sealed = "sealed:" + cmd.api_key if cmd.api_key else None
    return domain.decide_backend(state, cmd, sealed, "k1" if sealed else None)


def test_a_remote_backend_needs_a_server_and_a_model():
    for fields in ({"kind": "openai", "model": "m"}, {"kind": "openai", "base_url": "http://x"}):
        with pytest.raises(DomainError) as err:
            configure(EXPERT, **fields)
        assert err.value.code == "invalid"
    with pytest.raises(DomainError):
        configure(EXPERT, kind="ollama", base_url="ftp://x", model="m")


def test_the_stored_key_is_kept_for_the_same_server_and_dropped_for_another():
    with_key = configure(EXPERT, kind="openai", base_url="http://a/v1", model="m", api_key="k")
    state = domain.evolve(EXPERT, with_key)
    same = configure(state, kind="openai", base_url="http://a/v1", model="n")
    assert same.api_key_sealed == "sealed:k" and same.key_id == "k1"
    other = configure(state, kind="openai", base_url="http://b/v1", model="m")
    assert other.api_key_sealed is None
    removed = configure(state, kind="openai", base_url="http://a/v1", model="m", api_key="")
    assert removed.api_key_sealed is None
    local = configure(state, kind="local")
    assert local.api_key_sealed is None and local.base_url is None


def test_configuring_the_same_backend_again_changes_nothing():
    event = configure(EXPERT, kind="ollama", base_url="http://o:11434", model="llama3")
    state = domain.evolve(EXPERT, event)
    assert configure(state, kind="ollama", base_url="http://o:11434", model="llama3") is None
    assert state.version == EXPERT.version + 1
