"""What the accounts service answers with."""

from __future__ import annotations

from typing import Any, Literal

from contracts.base import Reply


class Identity(Reply, frozen=True, kw_only=True):
    """Who a user is, as every reply that names one says it: the id, the address they sign
    in with, their role, and the tenant that owns what they make."""

    user_id: str
    email: str
    role: str
    tenant: str


class UserView(Identity, frozen=True, kw_only=True):
    created_at: str


class UserCreatedReply(Identity, frozen=True, kw_only=True):
    api_key: str | None = None
    seq: int = 0


class UserList(Reply, frozen=True, kw_only=True):
    users: list[UserView]


class IssuedKey(Reply, frozen=True, kw_only=True):
    """The key itself appears here once and nowhere else."""

    id: str
    name: str
    prefix: str
    key: str
    scopes: list[str]
    expires_at: str | None
    seq: int = 0


class ApiKeyView(Reply, frozen=True, kw_only=True):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked: bool = False


class ApiKeyList(Reply, frozen=True, kw_only=True):
    keys: list[ApiKeyView]


class SessionView(Reply, frozen=True, kw_only=True):
    id: str  # a short id for the list, never the token
    method: str
    user_agent: str
    created_at: str
    last_seen_at: str
    expires_at: str
    current: bool = False


class SessionList(Reply, frozen=True, kw_only=True):
    sessions: list[SessionView]


class SignedIn(Reply, frozen=True, kw_only=True):
    """A new session: `token` goes into the HttpOnly cookie and nowhere else."""

    token: str
    user_id: str
    email: str
    role: str
    expires_at: str


class LinkSent(Reply, frozen=True, kw_only=True):
    delivery: Literal["email", "log"]  # "log": no SMTP server is configured


class Principal(Identity, frozen=True, kw_only=True):
    """Who a request acts for."""

    scopes: list[str]
    via: Literal["session", "key"]
    key_id: str | None = None
    actor: str = ""  # what the audit trail names: the email, with the key's name for a key


class SetupState(Reply, frozen=True, kw_only=True):
    needed: bool


class PasskeyCeremony(Reply, frozen=True, kw_only=True):
    """What the browser needs for one passkey ceremony: `options` (WebAuthn's JSON form,
    binary fields base64url) and the challenge's id, which the finishing step sends back."""

    challenge_id: str
    options: dict[str, Any]
    expires_at: str


class PasskeyView(Reply, frozen=True, kw_only=True):
    id: str  # the credential id, base64url
    name: str
    transports: list[str]
    created_at: str
    last_used_at: str | None = None
    seq: int = 0


class PasskeyList(Reply, frozen=True, kw_only=True):
    passkeys: list[PasskeyView]


class ErasurePart(Reply, frozen=True, kw_only=True):
    """What one service removed of a forgotten person."""

    context: str
    rows: int = 0
    objects: int = 0
    files: int = 0
    bytes_freed: int = 0
    wal: str = ""
    erased_at: str = ""


class ErasureReport(Reply, frozen=True, kw_only=True):
    """A deletion of a person's data: who asked and when, what each service removed, and
    the services that have not said so yet (`pending`; empty once `complete`)."""

    user_id: str
    tenant: str
    by: str
    requested_at: str
    parts: list[ErasurePart]
    pending: list[str]
    complete: bool
    seq: int = 0


class ErasureList(Reply, frozen=True, kw_only=True):
    erasures: list[ErasureReport]
