"""What the accounts service appends to the log: a user's life, keys and passkeys."""

from __future__ import annotations

from typing import ClassVar, Literal

import msgspec

from contracts.accounts.values import (
    Actor,
    CredentialId,
    Email,
    KeyName,
    PasskeyName,
    PublicKey,
    Role,
)
from contracts.base import Event
from contracts.rules import Count, Sha256, Token, items, line


class UserFact(Event, frozen=True, kw_only=True, tag=False):
    """An event on one user, the context's aggregate, keyed by the user id."""

    user_id: Token


class UserCreated(UserFact, frozen=True, kw_only=True, tag="accounts.UserCreated"):
    personal: ClassVar[tuple[str, ...]] = ("email",)
    email: Email
    role: Role
    tenant: Token
    created_by: Actor = ""


class ApiKeyIssued(UserFact, frozen=True, kw_only=True, tag="accounts.ApiKeyIssued"):
    personal: ClassVar[tuple[str, ...]] = ("name",)
    key_id: Token
    name: KeyName
    prefix: line(20, min_length=1)  # "sk-sim-AbCd": what lists show to tell keys apart
    key_sha256: Sha256
    scopes: items(Literal["read", "write", "admin"], 3)
    expires_at: line(40) | None = None  # ISO 8601, UTC; None: never


class ApiKeyRevoked(UserFact, frozen=True, kw_only=True, tag="accounts.ApiKeyRevoked"):
    key_id: Token
    revoked_by: Actor = ""


class UserRemoved(UserFact, frozen=True, kw_only=True, tag="accounts.UserRemoved"):
    removed_by: Actor = ""


class PasskeyRegistered(UserFact, frozen=True, kw_only=True, tag="accounts.PasskeyRegistered"):
    """A passkey the user's authenticator made and the accounts service verified: its id and
    COSE public key (base64url), the signature counter it started at, and how it is reached."""

    personal: ClassVar[tuple[str, ...]] = ("name",)

    credential_id: CredentialId
    public_key: PublicKey
    sign_count: Count
    name: PasskeyName
    transports: items(line(20), 8) = msgspec.field(default_factory=list)


class PasskeyRemoved(UserFact, frozen=True, kw_only=True, tag="accounts.PasskeyRemoved"):
    credential_id: CredentialId
    removed_by: Actor = ""


class UserForgotten(Event, frozen=True, kw_only=True, tag="accounts.UserForgotten"):
    """A person's data was deleted ("delete my data"): their data key is destroyed, so all
    they made reads as forgotten, and every service erases what it keeps of `tenant`
    (`contracts.erasure.TenantErased`). It lies under the install's audit tenant
    (`contracts.erasure.INSTALL`, aggregate `erasure`, id = the tenant), so the owner can
    still read who deleted whom and when: ids and times only, never content. `by` is the
    actor who asked, or "self" when the person deleted their own data."""

    user_id: Token
    tenant: Token
    by: Actor = ""
    requested_at: line(40)  # ISO 8601, UTC


AccountsEvent = (
    UserCreated
    | ApiKeyIssued
    | ApiKeyRevoked
    | UserRemoved
    | PasskeyRegistered
    | PasskeyRemoved
    | UserForgotten
)
