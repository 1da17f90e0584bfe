"""A user, pure: given events, when a request, then the event or the refusal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.accounts import ApiKeyIssued, ApiKeyRevoked, UserCreated, UserRemoved
from contracts.base import DomainError
from services.accounts import domain

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SHA = "ab" * 32


def given(*events) -> domain.User:
    state = domain.INITIAL
    for event in events:
        state = domain.evolve(state, event)
    return state


def created(email="ada@example.org", role="member", tenant=None) -> UserCreated:
    user_id = domain.user_id_of(email)
    return UserCreated(user_id=user_id, email=email, role=role, tenant=tenant or user_id)


def issued(user: UserCreated, key_id="k1", scopes=("read",)) -> ApiKeyIssued:
    return ApiKeyIssued(user_id=user.user_id, key_id=key_id, name="ci", prefix="sk-sim-AbCd",
                        key_sha256=SHA, scopes=list(scopes))  # fmt: skip


def issue(state, user_id, scopes, days=None):
    return domain.decide_issue_key(
        state, user_id=user_id, key_id="k9", name="laptop", scopes=scopes, prefix="sk-sim-XyZw",
        key_sha256=SHA, expires_in_days=days, now=NOW,
    )  # fmt: skip


def test_an_address_is_one_user_whatever_its_case():
    assert domain.user_id_of("Ada@Example.ORG") == domain.user_id_of(" ada@example.org")
    assert domain.user_id_of("ada@example.org") != domain.user_id_of("bob@example.org")


def test_the_first_owner_inherits_local_and_everyone_else_owns_their_own_tenant():
    assert domain.tenant_for("u1", first=True) == "local"
    assert domain.tenant_for("u1", first=False) == "u1"


def test_creating_records_the_address_lower_cased_under_the_tenant_given():
    event = domain.decide_create(domain.INITIAL, email="Ada@Example.org", role="owner",
                                 tenant="local", created_by="setup")  # fmt: skip
    assert event == UserCreated(user_id=domain.user_id_of("ada@example.org"),
                                email="ada@example.org", role="owner", tenant="local",
                                created_by="setup")  # fmt: skip


def test_a_second_account_for_the_same_address_is_a_conflict():
    with pytest.raises(DomainError) as refused:
        domain.decide_create(given(created()), email="ADA@example.org", role="member", tenant="x")
    assert refused.value.code == "conflict"
    assert "ada@example.org already has an account" in refused.value.detail


def test_a_removed_person_comes_back_under_their_old_tenant_without_their_old_keys():
    first = created(tenant="local")
    state = given(first, issued(first), UserRemoved(user_id=first.user_id))
    again = domain.decide_create(state, email="ada@example.org", role="member", tenant="other")
    assert again.tenant == "local"
    state = domain.evolve(state, again)
    assert state.active and state.keys == {}


def test_a_member_key_cannot_hold_the_admin_scope():
    user = created(role="member")
    with pytest.raises(DomainError) as refused:
        issue(given(user), user.user_id, ["read", "admin"])
    assert refused.value.code == "invalid" and "admin" in refused.value.detail


def test_an_owner_key_may_hold_every_scope_each_once_and_expires_when_asked():
    user = created(role="owner")
    event = issue(given(user), user.user_id, ["read", "admin", "read"], days=30)
    assert event.scopes == ["read", "admin"]
    assert event.expires_at == "2026-03-31T12:00:00+00:00"
    assert issue(given(user), user.user_id, ["write"]).expires_at is None


def test_a_key_needs_a_scope_and_a_living_user():
    user = created()
    with pytest.raises(DomainError) as empty:
        issue(given(user), user.user_id, [])
    assert empty.value.code == "invalid"
    with pytest.raises(DomainError) as gone:
        issue(given(user, UserRemoved(user_id=user.user_id)), user.user_id, ["read"])
    assert gone.value.code == "not_found"


def test_revoking_names_only_the_users_own_keys_and_twice_changes_nothing():
    user = created()
    state = given(user, issued(user, "k1"))
    event = domain.decide_revoke(state, user_id=user.user_id, key_id="k1", by="ada")
    assert event == ApiKeyRevoked(user_id=user.user_id, key_id="k1", revoked_by="ada")
    assert domain.decide_revoke(domain.evolve(state, event), user_id=user.user_id,
                                key_id="k1") is None  # fmt: skip
    with pytest.raises(DomainError) as other:
        domain.decide_revoke(state, user_id=user.user_id, key_id="someone-elses")
    assert other.value.code == "not_found"


def test_the_last_owner_stays_and_a_member_or_a_second_owner_goes():
    owner = created(role="owner", tenant="local")
    with pytest.raises(DomainError) as refused:
        domain.decide_remove(given(owner), user_id=owner.user_id, owners=1)
    assert refused.value.code == "conflict" and "last owner" in refused.value.detail
    assert domain.decide_remove(given(owner), user_id=owner.user_id, owners=2, by="bob") == (
        UserRemoved(user_id=owner.user_id, removed_by="bob")
    )
    member = created("bob@example.org")
    assert domain.decide_remove(given(member), user_id=member.user_id, owners=1)


def test_scopes_follow_the_role():
    assert domain.scopes_of("owner") == ["read", "write", "admin"]
    assert domain.scopes_of("member") == ["read", "write"]
