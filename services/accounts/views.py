"""Reading the accounts read models: the people, their keys, who holds a presented key, and
the passkeys (with the counter each was last seen at, kept beside the credentials)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.accounts import ApiKeyView, PasskeyView, UserView
from runtime.db import struct_of
from services.accounts.credentials import SCHEMA

USERS = text(
    "SELECT user_id, email, role, tenant, created_at FROM accounts.users"
    " WHERE removed_at IS NULL ORDER BY created_at, email"
)
USER = text(
    "SELECT user_id, email, role, tenant, created_at FROM accounts.users"
    " WHERE user_id = :u AND removed_at IS NULL"
)
USER_BY_EMAIL = text(
    "SELECT user_id, email, role, tenant, created_at FROM accounts.users"
    " WHERE email = :e AND removed_at IS NULL"
)
FORGOTTEN = text("SELECT 1 FROM accounts.erasures WHERE user_id = :u")
OWNERS = text(
    "SELECT count(*) FROM accounts.users WHERE role = 'owner' AND removed_at IS NULL"
)  # fmt: skip
KEYS = text(
    "SELECT k.key_id AS id, k.name, k.prefix, k.scopes, k.created_at, k.expires_at,"
    " u.last_used_at, k.revoked_at IS NOT NULL AS revoked"
    f" FROM accounts.api_keys k LEFT JOIN {SCHEMA}.key_uses u ON u.key_id = k.key_id"
    " WHERE k.user_id = :u ORDER BY k.created_at DESC, k.key_id"
)
# A key works while it is neither revoked nor expired and its holder still has an account.
KEY_HOLDER = text(
    "SELECT k.key_id, k.name, k.scopes, u.user_id, u.email, u.role, u.tenant, l.last_used_at"
    " FROM accounts.api_keys k JOIN accounts.users u ON u.user_id = k.user_id"
    f" LEFT JOIN {SCHEMA}.key_uses l ON l.key_id = k.key_id"
    " WHERE k.key_sha256 = :h AND k.revoked_at IS NULL"
    " AND (k.expires_at IS NULL OR k.expires_at > now()) AND u.removed_at IS NULL"
)

PASSKEYS = text(
    "SELECT p.credential_id AS id, p.name, p.transports, p.created_at, u.last_used_at"
    f" FROM accounts.passkeys p LEFT JOIN {SCHEMA}.passkey_uses u"
    " ON u.credential_id = p.credential_id"
    " WHERE p.user_id = :u AND p.removed_at IS NULL ORDER BY p.created_at, p.credential_id"
)
# A passkey signs in while it is not removed and its holder still has an account.
PASSKEY_HOLDER = text(
    "SELECT p.credential_id, p.user_id, p.public_key,"
    " coalesce(c.sign_count, p.sign_count) AS sign_count"
    " FROM accounts.passkeys p JOIN accounts.users u ON u.user_id = p.user_id"
    f" LEFT JOIN {SCHEMA}.passkey_uses c ON c.credential_id = p.credential_id"
    " WHERE p.credential_id = :c AND p.removed_at IS NULL AND u.removed_at IS NULL"
)
PASSKEY_KNOWN = text("SELECT 1 FROM accounts.passkeys WHERE credential_id = :c")


async def users(conn: AsyncConnection) -> list[UserView]:
    return [struct_of(UserView, row) for row in await conn.execute(USERS)]


async def user(conn: AsyncConnection, user_id: str) -> UserView | None:
    row = (await conn.execute(USER, {"u": user_id})).first()
    return struct_of(UserView, row) if row else None


async def user_by_email(conn: AsyncConnection, email: str) -> UserView | None:
    """The account of a (canonical) address, whichever life of it is the live one."""
    row = (await conn.execute(USER_BY_EMAIL, {"e": email})).first()
    return struct_of(UserView, row) if row else None


async def was_forgotten(conn: AsyncConnection, user_id: str) -> bool:
    """Whether this user's data was deleted (their id is then never used again)."""
    found = await conn.execute(FORGOTTEN, {"u": user_id})
    return found.first() is not None


async def owners(conn: AsyncConnection) -> int:
    return (await conn.execute(OWNERS)).scalar_one()


async def keys(conn: AsyncConnection, user_id: str) -> list[ApiKeyView]:
    rows = await conn.execute(KEYS, {"u": user_id})
    return [struct_of(ApiKeyView, row, scopes=list(row.scopes)) for row in rows]


async def key_holder(conn: AsyncConnection, sha256: str):
    return (await conn.execute(KEY_HOLDER, {"h": sha256})).first()


async def passkeys(conn: AsyncConnection, user_id: str) -> list[PasskeyView]:
    rows = await conn.execute(PASSKEYS, {"u": user_id})
    return [struct_of(PasskeyView, row, transports=list(row.transports)) for row in rows]


async def passkey_holder(conn: AsyncConnection, credential_id: str):
    return (await conn.execute(PASSKEY_HOLDER, {"c": credential_id})).first()


async def passkey_known(conn: AsyncConnection, credential_id: str) -> bool:
    """Whether the credential was ever registered here, by anyone (removed or not)."""
    return (await conn.execute(PASSKEY_KNOWN, {"c": credential_id})).first() is not None
