"""The accounts read models, rebuilt from the ACCOUNTS log.

- `accounts.users` → `users`: one row per person who ever had an account (a removed one
  keeps its row, marked, so the tenant of what they made stays known).
- `accounts.api_keys` → `api_keys`: one row per key ever issued, with its sha256 (what
  `Whois` looks a presented key up by), a revoked one marked.
- `accounts.passkeys` → `passkeys`: one row per passkey ever registered, with its public
  key (what a passkey sign-in is verified against), a removed one marked.

Neither is announced on the live feed: nothing in the console follows accounts events, and
a key's digest has no business travelling. When each key was last used is not history
either: it lives beside the credentials (`credentials.py`), so a rebuild keeps it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from contracts.accounts import (
    STREAM,
    ApiKeyIssued,
    ApiKeyRevoked,
    PasskeyRegistered,
    PasskeyRemoved,
    UserCreated,
    UserForgotten,
    UserRemoved,
)
from runtime.codec import json_text
from runtime.eventstore import RecordedEvent
from runtime.projection import Tables, Writes

USERS_TABLE = (
    "CREATE TABLE IF NOT EXISTS users ("
    " user_id text PRIMARY KEY, tenant text NOT NULL, email text NOT NULL, role text NOT NULL,"
    " created_at timestamptz NOT NULL, created_by text NOT NULL, removed_at timestamptz,"
    " removed_by text)"
)
KEYS_TABLE = (
    "CREATE TABLE IF NOT EXISTS api_keys ("
    " key_id text PRIMARY KEY, user_id text NOT NULL, tenant text NOT NULL, name text NOT NULL,"
    " prefix text NOT NULL, key_sha256 text NOT NULL, scopes jsonb NOT NULL,"
    " created_at timestamptz NOT NULL, expires_at timestamptz, revoked_at timestamptz,"
    " revoked_by text)"
)

CREATED = text(
    "INSERT INTO users (user_id, tenant, email, role, created_at, created_by)"
    " VALUES (:id, :t, :email, :role, :at, :by) ON CONFLICT (user_id) DO UPDATE"
    " SET tenant = EXCLUDED.tenant, email = EXCLUDED.email, role = EXCLUDED.role,"
    " created_at = EXCLUDED.created_at, created_by = EXCLUDED.created_by,"
    " removed_at = NULL, removed_by = NULL"
)
REMOVED = text("UPDATE users SET removed_at = :at, removed_by = :by WHERE user_id = :id")
# A person whose data was deleted leaves no row: nothing of theirs comes back on a rebuild
# either, since their own events then read as forgotten.
FORGOTTEN_USER = text("DELETE FROM users WHERE user_id = :id")
FORGOTTEN_KEYS = text("DELETE FROM api_keys WHERE user_id = :user")
FORGOTTEN_PASSKEYS = text("DELETE FROM passkeys WHERE user_id = :user")
ISSUED = text(
    "INSERT INTO api_keys (key_id, user_id, tenant, name, prefix, key_sha256, scopes,"
    " created_at, expires_at) VALUES (:key, :user, :t, :name, :prefix, :sha,"
    " CAST(:scopes AS jsonb), :at, :expires) ON CONFLICT DO NOTHING"
)
REVOKED = text(
    "UPDATE api_keys SET revoked_at = :at, revoked_by = :by"
    " WHERE key_id = :key AND user_id = :user AND revoked_at IS NULL"
)
# A user created again starts with no keys: those of their earlier account stay revoked.
KEYS_OF_REMOVED = text(
    "UPDATE api_keys SET revoked_at = :at, revoked_by = 'removed with the user'"
    " WHERE user_id = :user AND revoked_at IS NULL"
)

PASSKEYS_TABLE = (
    "CREATE TABLE IF NOT EXISTS passkeys ("
    " credential_id text PRIMARY KEY, user_id text NOT NULL, tenant text NOT NULL,"
    " name text NOT NULL, public_key text NOT NULL, sign_count bigint NOT NULL,"
    " transports jsonb NOT NULL, created_at timestamptz NOT NULL, removed_at timestamptz)"
)
PASSKEY_REGISTERED = text(
    "INSERT INTO passkeys (credential_id, user_id, tenant, name, public_key, sign_count,"
    " transports, created_at) VALUES (:c, :user, :t, :name, :key, :n, CAST(:tr AS jsonb), :at)"
    " ON CONFLICT DO NOTHING"
)
PASSKEY_REMOVED = text(
    "UPDATE passkeys SET removed_at = :at"
    " WHERE credential_id = :c AND user_id = :user AND removed_at IS NULL"
)
# A user created again starts with no passkeys, as with keys.
PASSKEYS_OF_REMOVED = text(
    "UPDATE passkeys SET removed_at = :at WHERE user_id = :user AND removed_at IS NULL"
)


class AccountsTables(Tables):
    """A read model of the ACCOUNTS log, never announced (see above)."""

    streams = (STREAM,)
    announce = False


class UsersProjection(AccountsTables):
    name = "accounts.users"
    table_ddl = (USERS_TABLE,)
    index_ddl = (
        "CREATE INDEX IF NOT EXISTS users_by_role ON users (role) WHERE removed_at IS NULL",
    )

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        match rec.event:
            case UserCreated() as ev:
                out.add(
                    CREATED,
                    {"id": ev.user_id, "t": ev.tenant, "email": ev.email, "role": ev.role,
                     "at": rec.at, "by": ev.created_by},
                )  # fmt: skip
            case UserRemoved() as ev:
                out.add(REMOVED, {"id": ev.user_id, "at": rec.at, "by": ev.removed_by})
            case UserForgotten() as ev:
                out.add(FORGOTTEN_USER, {"id": ev.user_id})


class ApiKeysProjection(AccountsTables):
    name = "accounts.api_keys"
    table_ddl = (KEYS_TABLE,)
    index_ddl = (
        "CREATE UNIQUE INDEX IF NOT EXISTS api_keys_by_sha256 ON api_keys (key_sha256)",
        "CREATE INDEX IF NOT EXISTS api_keys_by_user ON api_keys (user_id, created_at)",
    )

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        match rec.event:
            case ApiKeyIssued() as ev:
                out.add(
                    ISSUED,
                    {"key": ev.key_id, "user": ev.user_id, "t": rec.tenant, "name": ev.name,
                     "prefix": ev.prefix, "sha": ev.key_sha256, "scopes": json_text(ev.scopes),
                     "at": rec.at, "expires": moment(ev.expires_at)},
                )  # fmt: skip
            case ApiKeyRevoked() as ev:
                out.add(REVOKED, {"key": ev.key_id, "user": ev.user_id, "at": rec.at,
                                  "by": ev.revoked_by})  # fmt: skip
            case UserRemoved() as ev:
                out.add(KEYS_OF_REMOVED, {"user": ev.user_id, "at": rec.at})
            case UserForgotten() as ev:
                out.add(FORGOTTEN_KEYS, {"user": ev.user_id})


class PasskeysProjection(AccountsTables):
    name = "accounts.passkeys"
    table_ddl = (PASSKEYS_TABLE,)
    index_ddl = ("CREATE INDEX IF NOT EXISTS passkeys_by_user ON passkeys (user_id, created_at)",)

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        match rec.event:
            case PasskeyRegistered() as ev:
                out.add(
                    PASSKEY_REGISTERED,
                    {"c": ev.credential_id, "user": ev.user_id, "t": rec.tenant, "name": ev.name,
                     "key": ev.public_key, "n": ev.sign_count, "tr": json_text(ev.transports),
                     "at": rec.at},
                )  # fmt: skip
            case PasskeyRemoved() as ev:
                out.add(PASSKEY_REMOVED, {"c": ev.credential_id, "user": ev.user_id, "at": rec.at})
            case UserRemoved() as ev:
                out.add(PASSKEYS_OF_REMOVED, {"user": ev.user_id, "at": rec.at})
            case UserForgotten() as ev:
                out.add(FORGOTTEN_PASSKEYS, {"user": ev.user_id})


def moment(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None
