"""Queries of the accounts service: who a credential belongs to (`Whois`, asked by the
gateway on every request), the people, their keys and sessions, and whether setup waits."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts import accounts
from runtime.rpc import not_found
from runtime.service import ServiceHost
from services.accounts import domain, setup, views
from services.accounts.credentials import TOUCH_EVERY, Credentials
from services.accounts.tokens import digest


class AccountsQueries:
    def __init__(self, host: ServiceHost, credentials: Credentials) -> None:
        self.host, self.credentials = host, credentials

    async def whois(self, q: accounts.Whois) -> accounts.Principal:
        """A key is looked up by its digest among the read models (not revoked, not expired,
        its holder not removed); anything else as a session token. Unknown answers 404."""
        if q.credential.startswith(accounts.KEY_PREFIX):
            row = await self.host.read(q, lambda conn: views.key_holder(conn, digest(q.credential)))
            if row is None:
                raise not_found("this API key")
            last = row.last_used_at
            if last is None or datetime.now(UTC) - last >= TOUCH_EVERY:
                await self.credentials.key_used(row.key_id)
            return accounts.Principal(
                user_id=row.user_id, email=row.email, role=row.role, tenant=row.tenant,
                scopes=list(row.scopes), via="key", key_id=row.key_id,
                actor=f"{row.email} (key {row.name})",
            )  # fmt: skip
        row = await self.credentials.session(q.credential)
        if row is None:
            raise not_found("this session")
        return accounts.Principal(
            user_id=row.user_id, email=row.email, role=row.role, tenant=row.tenant,
            scopes=domain.scopes_of(row.role), via="session", actor=row.email,
        )  # fmt: skip

    async def users(self, q: accounts.ListUsers) -> accounts.UserList:
        return accounts.UserList(users=await self.host.read(q, views.users))

    async def keys(self, q: accounts.ListApiKeys) -> accounts.ApiKeyList:
        return accounts.ApiKeyList(
            keys=await self.host.read(q, lambda conn: views.keys(conn, q.user_id))
        )

    async def sessions(self, q: accounts.ListSessions) -> accounts.SessionList:
        current = digest(q.current) if q.current else None
        rows = await self.credentials.sessions(q.user_id)
        return accounts.SessionList(
            sessions=[
                accounts.SessionView(
                    id=row.id,
                    method=row.method,
                    user_agent=row.user_agent,
                    created_at=row.created_at.isoformat(),
                    last_seen_at=row.last_seen_at.isoformat(),
                    expires_at=row.expires_at.isoformat(),
                    current=row.sha256 == current,
                )  # fmt: skip
                for row in rows
            ]
        )

    async def setup_state(self, _: accounts.GetSetup) -> accounts.SetupState:
        return accounts.SetupState(needed=not await setup.anyone_yet(self.host.js))
