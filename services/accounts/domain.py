"""A user, pure: `evolve` folds the user's log into `User`; each `decide_*` turns a request
into the one event that records it, or refuses with a DomainError whose sentence a person
reads.

A user's id is a uuid5 of the lower-cased address, so one address is one user whatever
case it is typed in; their events lie under their own tenant (`local` for the install's
first owner, their id for everyone else). What a decision needs from beyond this one user
— whether anyone has an account yet, how many owners remain — is handed in by the caller,
which reads it under the accounts service's directory lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from contracts.accounts import (
    OWNER_TENANT,
    ApiKeyIssued,
    ApiKeyRevoked,
    PasskeyRegistered,
    PasskeyRemoved,
    Role,
    Scope,
    UserCreated,
    UserRemoved,
)
from contracts.base import DomainError, ErrorCode

# Fixed for good: every user id ever given out is derived from it.
USER_NAMESPACE = uuid.UUID("5d1c8f52-6a0e-4b8e-9a57-3c1f0e2b7a41")
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
ROLE_SCOPES: dict[str, tuple[Scope, ...]] = {
    "owner": ("read", "write", "admin"),
    "member": ("read", "write"),
}
MAX_PASSKEYS = 20  # a person's passkeys, at most: enough for every device they own


@dataclass(frozen=True)
class Key:
    issued: ApiKeyIssued
    revoked: bool = False


@dataclass(frozen=True)
class User:
    created: UserCreated | None = None  # the latest creation (a removed user may come back)
    removed: bool = False
    keys: dict[str, Key] = field(default_factory=dict)
    passkeys: dict[str, PasskeyRegistered] = field(default_factory=dict)  # by credential id

    @property
    def active(self) -> bool:
        return self.created is not None and not self.removed


INITIAL = User()


def canonical(email: str) -> str:
    """An address as kept: ASCII letters lower-cased (other letters as typed, since lower-
    casing some of them changes the length, and the address must still fit its contract)."""
    return email.strip().translate(ASCII_LOWER)


def user_id_of(email: str, life: int = 0) -> str:
    """The id an address has, whatever its case. A person whose data was deleted (their
    tenant forgotten, its key destroyed for good) who comes back is someone new: their next
    `life` has an id, and so a tenant, of its own."""
    name = canonical(email) if life == 0 else f"{canonical(email)}#{life}"
    return uuid.uuid5(USER_NAMESPACE, name).hex


def scopes_of(role: str) -> list[Scope]:
    """Everything a role may do: an owner also administers the install."""
    return list(ROLE_SCOPES.get(role, ()))


def tenant_for(user_id: str, *, first: bool) -> str:
    """The install's first owner inherits `local` (everything made before accounts); every
    later person owns what they make under their own id."""
    return OWNER_TENANT if first else user_id


def evolve(state: User, event: object) -> User:
    match event:
        case UserCreated() as ev:
            return User(created=ev)  # a user created again starts with no keys
        case UserRemoved():
            return replace(state, removed=True)
        case ApiKeyIssued() as ev:
            return replace(state, keys={**state.keys, ev.key_id: Key(ev)})
        case ApiKeyRevoked() as ev if ev.key_id in state.keys:
            key = replace(state.keys[ev.key_id], revoked=True)
            return replace(state, keys={**state.keys, ev.key_id: key})
        case PasskeyRegistered() as ev:
            return replace(state, passkeys={**state.passkeys, ev.credential_id: ev})
        case PasskeyRemoved() as ev:
            rest = {k: v for k, v in state.passkeys.items() if k != ev.credential_id}
            return replace(state, passkeys=rest)
    return state


# ---- decisions -------------------------------------------------------------------------------


def active_user(state: User, user_id: str) -> UserCreated:
    if not state.active:
        raise DomainError(ErrorCode.NOT_FOUND, f"user {user_id} was not found")
    assert state.created is not None
    return state.created


def decide_create(
    state: User,
    *,
    email: str,
    role: Role,
    tenant: str,
    created_by: str = "",
    user_id: str | None = None,
) -> UserCreated:
    """A new person, or one removed before coming back (under the tenant they had, so what
    they made is theirs again)."""
    if state.active:
        raise DomainError(
            ErrorCode.CONFLICT, f"{canonical(email)} already has an account: one address, one user"
        )
    if state.created is not None:
        tenant = state.created.tenant
    return UserCreated(
        user_id=user_id or user_id_of(email),
        email=canonical(email),
        role=role,
        tenant=tenant,
        created_by=created_by,
    )


def decide_issue_key(
    state: User, *, user_id: str, key_id: str, name: str, scopes: list[str], prefix: str,
    key_sha256: str, expires_in_days: int | None, now: datetime,
) -> ApiKeyIssued:  # fmt: skip
    """A key with `scopes` (in the order given, each once); a role's key never holds more
    than the role may do."""
    user = active_user(state, user_id)
    wanted = list(dict.fromkeys(scopes))
    if not wanted:
        raise DomainError(ErrorCode.INVALID, "an API key needs at least one scope")
    allowed = scopes_of(user.role)
    beyond = [s for s in wanted if s not in allowed]
    if beyond:
        raise DomainError(
            ErrorCode.INVALID,
            f"a {user.role}'s key cannot have the {', '.join(beyond)} scope"
            f" (a {user.role} may have {', '.join(allowed)})",
        )
    expires_at = None
    if expires_in_days is not None:
        expires_at = (now + timedelta(days=expires_in_days)).isoformat(timespec="seconds")
    return ApiKeyIssued(
        user_id=user_id, key_id=key_id, name=name, prefix=prefix, key_sha256=key_sha256,
        scopes=wanted, expires_at=expires_at,
    )  # fmt: skip


def decide_revoke(state: User, *, user_id: str, key_id: str, by: str = "") -> ApiKeyRevoked | None:
    """Revoke one of the user's keys (revoking it again changes nothing); a key of another
    user is not theirs to name, so it is not found."""
    active_user(state, user_id)
    key = state.keys.get(key_id)
    if key is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"API key {key_id} was not found")
    if key.revoked:
        return None
    return ApiKeyRevoked(user_id=user_id, key_id=key_id, revoked_by=by)


def decide_remove(state: User, *, user_id: str, owners: int, by: str = "") -> UserRemoved:
    """Remove a person; `owners` is how many owners the install has now. Someone must always
    be able to administer the install, so the last owner stays."""
    user = active_user(state, user_id)
    if user.role == "owner" and owners <= 1:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"{user.email} is the last owner and cannot be removed: someone must be able to"
            " administer this install; add another owner first",
        )
    return UserRemoved(user_id=user_id, removed_by=by)


def decide_register_passkey(state: User, *, user_id: str, passkey: PasskeyRegistered,
                            registered_elsewhere: bool) -> PasskeyRegistered:  # fmt: skip
    """Record a verified passkey. One credential belongs to one person: a credential id
    already on file (this user's, or anyone's: `registered_elsewhere`) is refused."""
    active_user(state, user_id)
    if passkey.credential_id in state.passkeys or registered_elsewhere:
        raise DomainError(ErrorCode.CONFLICT, "this passkey is already registered")
    if len(state.passkeys) >= MAX_PASSKEYS:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"you have {MAX_PASSKEYS} passkeys already, the most one person may have;"
            " remove one you no longer use first",
        )
    return passkey


def decide_remove_passkey(state: User, *, user_id: str, credential_id: str,
                          by: str = "") -> PasskeyRemoved:  # fmt: skip
    """Remove one of the user's passkeys; another person's is not theirs to name: not found."""
    active_user(state, user_id)
    if credential_id not in state.passkeys:
        raise DomainError(ErrorCode.NOT_FOUND, "this passkey was not found")
    return PasskeyRemoved(user_id=user_id, credential_id=credential_id, removed_by=by)
