"""A user's passkeys, pure: registered once, at most MAX_PASSKEYS, removed only by their
owner, gone with the user."""

from __future__ import annotations

import pytest

from contracts.accounts import PasskeyRegistered, PasskeyRemoved, UserCreated, UserRemoved
from contracts.base import DomainError
from services.accounts import domain

EMAIL = "ada@example.org"
USER = domain.user_id_of(EMAIL)
CREATED = UserCreated(user_id=USER, email=EMAIL, role="member", tenant=USER)


def passkey(n: int = 1) -> PasskeyRegistered:
    return PasskeyRegistered(user_id=USER, credential_id=f"cred{n}", public_key="pQECAyYg",
                             sign_count=0, name=f"device {n}")  # fmt: skip


def given(*events) -> domain.User:
    state = domain.INITIAL
    for event in events:
        state = domain.evolve(state, event)
    return state


def register(state, n=1, elsewhere=False):
    return domain.decide_register_passkey(
        state, user_id=USER, passkey=passkey(n), registered_elsewhere=elsewhere
    )


def test_a_passkey_is_registered_once_and_never_if_someone_has_it():
    assert register(given(CREATED)) == passkey()
    with pytest.raises(DomainError) as twice:
        register(given(CREATED, passkey()))
    assert twice.value.code == "conflict"
    with pytest.raises(DomainError) as theirs:
        register(given(CREATED), elsewhere=True)
    assert theirs.value.code == "conflict"


def test_a_person_holds_at_most_the_limit():
    full = given(CREATED, *(passkey(n) for n in range(domain.MAX_PASSKEYS)))
    with pytest.raises(DomainError) as refused:
        register(full, n=999)
    assert str(domain.MAX_PASSKEYS) in refused.value.detail


def test_removing_names_only_ones_own_passkey_and_a_removed_user_has_none():
    state = given(CREATED, passkey())
    removed = domain.decide_remove_passkey(state, user_id=USER, credential_id="cred1", by=EMAIL)
    assert removed == PasskeyRemoved(user_id=USER, credential_id="cred1", removed_by=EMAIL)
    with pytest.raises(DomainError) as again:
        domain.decide_remove_passkey(given(CREATED, passkey(), removed), user_id=USER,
                                     credential_id="cred1")  # fmt: skip
    assert again.value.code == "not_found"
    with pytest.raises(DomainError) as gone:
        register(given(CREATED, UserRemoved(user_id=USER)))
    assert gone.value.code == "not_found"
    assert given(CREATED, passkey(), UserRemoved(user_id=USER), CREATED).passkeys == {}
