"""What passkeys need beside the log: the challenges of ceremonies under way, and each
passkey's signature counter as last seen.

Neither is history, so both live with the other credentials (schema `accounts_credentials`,
outside the projections: a rebuild forgets no counter and cancels no ceremony).

- `passkey_challenges`: one row per ceremony begun, with the relying party and origin the
  gateway named, for `PASSKEY_CHALLENGE_MINUTES`. Taking one deletes it (`DELETE …
  RETURNING`), so each works once even when two answers race, and an expired one is gone
  too. How many may be open at once is capped: beginning a sign-in needs no account, so
  whoever can reach the page could otherwise fill the table.
- `passkey_uses`: the counter of each passkey's last sign-in. It only moves forward (one
  conditional upsert), so a cloned authenticator, whose copy counts from an older value,
  is refused even when the original and the copy sign in at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.accounts import PASSKEY_CHALLENGE_MINUTES
from runtime import db
from services.accounts.credentials import SCHEMA
from services.accounts.tokens import new_token

MAX_OPEN_CHALLENGES = 10_000

TABLES = (
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.passkey_challenges ("
    " id text PRIMARY KEY, purpose text NOT NULL, user_id text, challenge text NOT NULL,"
    " rp_id text NOT NULL, origin text NOT NULL, created_at timestamptz NOT NULL,"
    " expires_at timestamptz NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.passkey_uses ("
    " credential_id text PRIMARY KEY, sign_count bigint NOT NULL,"
    " last_used_at timestamptz NOT NULL)",
)
OPEN = text(f"SELECT count(*) FROM {SCHEMA}.passkey_challenges")
EXPIRED = text(f"DELETE FROM {SCHEMA}.passkey_challenges WHERE expires_at <= now()")
ADD = text(
    f"INSERT INTO {SCHEMA}.passkey_challenges"
    " (id, purpose, user_id, challenge, rp_id, origin, created_at, expires_at)"
    " VALUES (:id, :purpose, :u, :c, :rp, :origin, :at, :exp)"
)
TAKE = text(
    f"DELETE FROM {SCHEMA}.passkey_challenges WHERE id = :id AND purpose = :purpose"
    " RETURNING user_id, challenge, rp_id, origin, expires_at > now() AS live"
)
# The counter moves forward only; an authenticator that counts nothing stays at 0.
COUNTED = text(
    f"INSERT INTO {SCHEMA}.passkey_uses AS u (credential_id, sign_count, last_used_at)"
    " VALUES (:c, :n, now()) ON CONFLICT (credential_id) DO UPDATE"
    " SET sign_count = EXCLUDED.sign_count, last_used_at = EXCLUDED.last_used_at"
    " WHERE u.sign_count < EXCLUDED.sign_count OR (EXCLUDED.sign_count = 0 AND u.sign_count = 0)"
    " RETURNING 1"
)


@dataclass(frozen=True)
class Challenge:
    user_id: str | None  # who registers; None for a sign-in, which names no one
    challenge: str  # base64url
    rp_id: str
    origin: str


class PasskeyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def ensure(self) -> None:
        await db.ensure_tables(self.engine, SCHEMA, TABLES)

    async def open_challenge(
        self, purpose: str, user_id: str | None, challenge: str, rp_id: str, origin: str
    ) -> tuple[str, datetime] | None:
        """Keep a new challenge: its id and expiry; None when too many are open already."""
        challenge_id, at = new_token(), datetime.now(UTC)
        expires = at + timedelta(minutes=PASSKEY_CHALLENGE_MINUTES)
        async with self.engine.begin() as conn:
            await conn.execute(EXPIRED)
            if (await conn.execute(OPEN)).scalar_one() >= MAX_OPEN_CHALLENGES:
                return None
            await conn.execute(
                ADD,
                {"id": challenge_id, "purpose": purpose, "u": user_id, "c": challenge,
                 "rp": rp_id, "origin": origin, "at": at, "exp": expires},
            )  # fmt: skip
        return challenge_id, expires

    async def take_challenge(self, challenge_id: str, purpose: str) -> Challenge | None:
        """The challenge `challenge_id` of a `purpose` ceremony, used up now; None when it is
        unknown, was used, or has expired."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(TAKE, {"id": challenge_id, "purpose": purpose})).first()
        if row is None or not row.live:
            return None
        return Challenge(row.user_id, row.challenge, row.rp_id, row.origin)

    async def count_use(self, credential_id: str, sign_count: int) -> bool:
        """Record a sign-in's counter: False when it does not move forward from the last."""
        async with self.engine.begin() as conn:
            moved = await conn.execute(COUNTED, {"c": credential_id, "n": sign_count})
            return moved.first() is not None
