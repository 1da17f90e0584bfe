"""What the accounts service appends to the log: a user's life, keys and passkeys."""

from __future__ import annotations

from typing import Literal

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


class UserCreated(Event, frozen=True, kw_only=True, tag="accounts.UserCreated"):
    user_id: Token
    email: Email
    role: Role
    tenant: Token
    created_by: Actor = ""


class ApiKeyIssued(Event, frozen=True, kw_only=True, tag="accounts.ApiKeyIssued"):
    user_id: Token
    key_id: Token
    name: KeyName
    prefix: line(20, min_length=1)  # "sk-sim-AbCd": what lists show to tell keys apart
    key_sha256: Sha256
    scopes: items(Literal["read", "write", "admin"], 3)
    expires_at: line(40) | None = None  # ISO 8601, UTC; None: never


class ApiKeyRevoked(Event, frozen=True, kw_only=True, tag="accounts.ApiKeyRevoked"):
    user_id: Token
    key_id: Token
    revoked_by: Actor = ""


class UserRemoved(Event, frozen=True, kw_only=True, tag="accounts.UserRemoved"):
    user_id: Token
    removed_by: Actor = ""


class PasskeyRegistered(Event, frozen=True, kw_only=True, tag="accounts.PasskeyRegistered"):
    """A passkey the user's authenticator made and the accounts service verified: its id and
    COSE public key (base64url), the signature counter it started at, and how it is reached."""

    user_id: Token
    credential_id: CredentialId
    public_key: PublicKey
    sign_count: Count
    name: PasskeyName
    transports: items(line(20), 8) = msgspec.field(default_factory=list)


class PasskeyRemoved(Event, frozen=True, kw_only=True, tag="accounts.PasskeyRemoved"):
    user_id: Token
    credential_id: CredentialId
    removed_by: Actor = ""


AccountsEvent = (
    UserCreated | ApiKeyIssued | ApiKeyRevoked | UserRemoved | PasskeyRegistered | PasskeyRemoved
)
