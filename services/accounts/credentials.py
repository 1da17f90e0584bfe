"""Credentials: sessions, sign-in links, setup tokens and when each key was last used.

They are not history, so they are not on the log: a session ends, a link is used once, and
none of that is worth replaying. They live in a schema of their own
(`accounts_credentials`), outside the projections, so rebuilding the read models never
signs anyone out. Every token is kept only as its sha256 (`tokens.digest`), with an expiry.

Single use is the database's doing: a link is redeemed by one `UPDATE ... WHERE used_at IS
NULL AND expires_at > now() RETURNING`, so two clicks racing each other sign in once.

The directory lock (`directory`) serialises the decisions that depend on every user at
once — whether anyone has an account yet, whether an owner is the last — across replicas.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.accounts import MAGIC_LINK_MINUTES, SESSION_DAYS
from runtime import db
from services.accounts.tokens import digest, new_token, short_id

SCHEMA = "accounts_credentials"
SETUP_HOURS = 24
LINKS_PER_WINDOW = 5  # sign-in links one address may ask for ...
LINK_WINDOW = timedelta(minutes=15)  # ... in this long
TOUCH_EVERY = timedelta(minutes=1)  # last-seen and last-used times are this coarse

TABLES = (
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.sessions ("
    " sha256 text PRIMARY KEY, id text NOT NULL UNIQUE, user_id text NOT NULL,"
    " method text NOT NULL, user_agent text NOT NULL, created_at timestamptz NOT NULL,"
    " last_seen_at timestamptz NOT NULL, expires_at timestamptz NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS sessions_by_user ON {SCHEMA}.sessions (user_id)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.magic_links ("
    " sha256 text PRIMARY KEY, user_id text NOT NULL, created_at timestamptz NOT NULL,"
    " expires_at timestamptz NOT NULL, used_at timestamptz)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.link_requests ("
    " address_sha256 text NOT NULL, requested_at timestamptz NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS link_requests_by_address"
    f" ON {SCHEMA}.link_requests (address_sha256, requested_at)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.setup_tokens ("
    " sha256 text PRIMARY KEY, created_at timestamptz NOT NULL,"
    " expires_at timestamptz NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.key_uses ("
    " key_id text PRIMARY KEY, last_used_at timestamptz NOT NULL)",
)

SESSION_OF = text(
    "SELECT s.id, s.user_id, s.last_seen_at, u.email, u.role, u.tenant"
    f" FROM {SCHEMA}.sessions s JOIN accounts.users u ON u.user_id = s.user_id"
    " WHERE s.sha256 = :h AND s.expires_at > now() AND u.removed_at IS NULL"
)
SESSIONS_OF = text(
    "SELECT sha256, id, method, user_agent, created_at, last_seen_at, expires_at"
    f" FROM {SCHEMA}.sessions WHERE user_id = :u AND expires_at > now()"
    " ORDER BY last_seen_at DESC, id"
)


def now() -> datetime:
    return datetime.now(UTC)


class Credentials:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def ensure(self) -> None:
        await db.ensure_tables(self.engine, SCHEMA, TABLES)

    @asynccontextmanager
    async def directory(self) -> AsyncIterator[None]:
        """Hold the install's directory of users still until the block ends: one decision
        about who has an account at a time, in every replica."""
        async with self.engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('simtune.accounts'))"))
            yield

    # ---- sessions ---------------------------------------------------------------------------

    async def start_session(
        self, user_id: str, method: str, user_agent: str
    ) -> tuple[str, datetime]:
        """A new session: its token (for the cookie, never stored) and when it expires."""
        token, at = new_token(), now()
        expires = at + timedelta(days=SESSION_DAYS)
        async with self.engine.begin() as conn:
            await conn.execute(text(f"DELETE FROM {SCHEMA}.sessions WHERE expires_at <= now()"))
            await conn.execute(
                text(
                    f"INSERT INTO {SCHEMA}.sessions (sha256, id, user_id, method, user_agent,"
                    " created_at, last_seen_at, expires_at)"
                    " VALUES (:h, :id, :u, :m, :ua, :at, :at, :exp)"
                ),
                {"h": digest(token), "id": short_id(), "u": user_id, "m": method,
                 "ua": user_agent, "at": at, "exp": expires},
            )  # fmt: skip
        return token, expires

    async def session(self, token: str):
        """The live session `token` opens, with its user (None: unknown, expired, or its
        user was removed); its last-seen time moves on at most once a minute."""
        sha = digest(token)
        async with self.engine.connect() as conn:
            row = (await conn.execute(SESSION_OF, {"h": sha})).first()
            if row is not None and now() - row.last_seen_at >= TOUCH_EVERY:
                await conn.execute(
                    text(f"UPDATE {SCHEMA}.sessions SET last_seen_at = now() WHERE sha256 = :h"),
                    {"h": sha},
                )
                await conn.commit()
        return row

    async def sessions(self, user_id: str):
        async with self.engine.connect() as conn:
            return (await conn.execute(SESSIONS_OF, {"u": user_id})).all()

    async def end_session(self, token: str, *, everywhere: bool) -> str | None:
        """End the session `token` opens (with `everywhere`, every session of its user);
        the user's id, or None when the token opens none."""
        sha = digest(token)
        async with self.engine.begin() as conn:
            user_id = (
                await conn.execute(
                    text(f"DELETE FROM {SCHEMA}.sessions WHERE sha256 = :h RETURNING user_id"),
                    {"h": sha},
                )
            ).scalar()
            if user_id is not None and everywhere:
                await conn.execute(
                    text(f"DELETE FROM {SCHEMA}.sessions WHERE user_id = :u"), {"u": user_id}
                )
        return user_id

    async def forget_user(self, user_id: str) -> None:
        """A removed user's sessions end and their unused sign-in links stop working."""
        async with self.engine.begin() as conn:
            for table in ("sessions", "magic_links"):
                await conn.execute(
                    text(f"DELETE FROM {SCHEMA}.{table} WHERE user_id = :u"), {"u": user_id}
                )

    # ---- sign-in links ----------------------------------------------------------------------

    async def count_link_request(self, address: str) -> bool:
        """Count a request for a sign-in link to `address` (known or not, so the answer
        tells nothing); False when it is one too many for the window."""
        sha = digest(address)
        async with self.engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:h))"), {"h": sha})
            since = now() - LINK_WINDOW
            await conn.execute(
                text(f"DELETE FROM {SCHEMA}.link_requests WHERE requested_at < :since"),
                {"since": since},
            )
            recent = (
                await conn.execute(
                    text(
                        f"SELECT count(*) FROM {SCHEMA}.link_requests"
                        " WHERE address_sha256 = :h AND requested_at >= :since"
                    ),
                    {"h": sha, "since": since},
                )
            ).scalar_one()
            if recent >= LINKS_PER_WINDOW:
                return False
            await conn.execute(
                text(f"INSERT INTO {SCHEMA}.link_requests VALUES (:h, now())"), {"h": sha}
            )
        return True

    async def new_magic_link(self, user_id: str) -> str:
        token, at = new_token(), now()
        async with self.engine.begin() as conn:
            await conn.execute(
                text(f"DELETE FROM {SCHEMA}.magic_links WHERE expires_at <= now()")
            )  # fmt: skip
            await conn.execute(
                text(
                    f"INSERT INTO {SCHEMA}.magic_links (sha256, user_id, created_at, expires_at)"
                    " VALUES (:h, :u, :at, :exp)"
                ),
                {"h": digest(token), "u": user_id, "at": at,
                 "exp": at + timedelta(minutes=MAGIC_LINK_MINUTES)},
            )  # fmt: skip
        return token

    async def redeem_magic_link(self, token: str) -> str | None:
        """The user a link signs in, once: None when it is unknown, used or expired."""
        async with self.engine.begin() as conn:
            return (
                await conn.execute(
                    text(
                        f"UPDATE {SCHEMA}.magic_links SET used_at = now()"
                        " WHERE sha256 = :h AND used_at IS NULL AND expires_at > now()"
                        " RETURNING user_id"
                    ),
                    {"h": digest(token)},
                )
            ).scalar()

    # ---- the setup token --------------------------------------------------------------------

    async def new_setup_token(self) -> str:
        """A one-time token to create the first owner with, valid a day (or until someone
        has an account). Each start makes one; any of them works, once."""
        token, at = new_token(), now()
        async with self.engine.begin() as conn:
            await conn.execute(text(f"DELETE FROM {SCHEMA}.setup_tokens WHERE expires_at <= now()"))
            await conn.execute(
                text(f"INSERT INTO {SCHEMA}.setup_tokens VALUES (:h, :at, :exp)"),
                {"h": digest(token), "at": at, "exp": at + timedelta(hours=SETUP_HOURS)},
            )
        return token

    async def take_setup_token(self, token: str) -> bool:
        """Use the setup token up: True when it was valid (and is now gone)."""
        async with self.engine.begin() as conn:
            taken = await conn.execute(
                text(
                    f"DELETE FROM {SCHEMA}.setup_tokens"
                    " WHERE sha256 = :h AND expires_at > now() RETURNING 1"
                ),
                {"h": digest(token)},
            )
            return taken.first() is not None

    async def forget_setup(self) -> None:
        """Someone has an account: no setup token works any more."""
        async with self.engine.begin() as conn:
            await conn.execute(text(f"DELETE FROM {SCHEMA}.setup_tokens"))

    # ---- keys -------------------------------------------------------------------------------

    async def key_used(self, key_id: str) -> None:
        """Record a key's use, at most once a minute."""
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    f"INSERT INTO {SCHEMA}.key_uses VALUES (:k, now()) ON CONFLICT (key_id)"
                    " DO UPDATE SET last_used_at = now()"
                    " WHERE key_uses.last_used_at < now() - interval '1 minute'"
                ),
                {"k": key_id},
            )
