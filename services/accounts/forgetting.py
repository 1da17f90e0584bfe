"""Deleting a person's data ("delete my data"), as the accounts service decides it, and the
report of what every service removed.

Who may: the person themselves, or an owner for someone else; anyone else is told the
person was not found, as for a missing one. The confirmation is the address of the account
being deleted, typed by hand (`ForgetUser.confirm`, an email on the contract): a mismatch
deletes nothing. The install's last owner stays, as with removing. Decided under the
directory lock with the views caught up, like creating and removing people.

The decision is one `UserForgotten` under the install's audit tenant; then the person's data
key is destroyed (everything of theirs on the log reads as forgotten from now on) and their
sessions, sign-in links and passkey ceremonies end. The read models drop their account, keys
and passkeys as they apply the event; every service — this one included — erases the rest
in reaction (`runtime.erasure`). Asking again, after a timeout say, answers the same report
and appends nothing: the erasure aggregate knows the tenant was forgotten.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.accounts import (
    ErasureList,
    ErasureReport,
    ForgetUser,
    GetErasure,
    ListErasures,
    UserForgotten,
)
from contracts.base import DomainError, ErrorCode
from contracts.erasure import AGGREGATE, INSTALL
from runtime.aggregate import AggregateType
from runtime.logs import get_logger
from runtime.rpc import not_found
from runtime.service import ServiceHost
from services.accounts import domain, erasures, views
from services.accounts.credentials import SCHEMA, Credentials

log = get_logger(__name__)

CONFIRM_REFUSED = (
    "the confirmation does not match: type the email address of the account being deleted,"
    " exactly, to confirm that its data is to be deleted for good"
)
LAST_OWNER = (
    "{email} is the last owner and their data cannot be deleted: someone must be able to"
    " administer this install; make another person an owner first"
)
SELF = "self"  # what `UserForgotten.by` says when the person deleted their own data

FORGOTTEN = AggregateType(
    "accounts", AGGREGATE, False, lambda done, ev: done or isinstance(ev, UserForgotten)
)


class Forgetting:
    def __init__(self, host: ServiceHost, credentials: Credentials) -> None:
        self.host, self.credentials = host, credentials

    async def forget_user(self, cmd: ForgetUser) -> ErasureReport:
        host = self.host
        async with self.credentials.directory():
            await host.caught_up_with_log()
            async with host.engine.connect() as conn:
                await self._may(conn, cmd.by_user, cmd.user_id)
                target = await views.user(conn, cmd.user_id)
                owners = await views.owners(conn)
                if target is None:  # asked again once done, or never there
                    return await self._report(conn, cmd.user_id)
            if domain.canonical(cmd.confirm) != target.email:
                raise DomainError(ErrorCode.INVALID, CONFIRM_REFUSED)
            if target.role == "owner" and owners <= 1:
                raise DomainError(ErrorCode.CONFLICT, LAST_OWNER.format(email=target.email))
            tenant = target.tenant
            event = UserForgotten(
                user_id=target.user_id,
                tenant=tenant,
                by=SELF if cmd.by_user == cmd.user_id else cmd.by,
                requested_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            outcome = await FORGOTTEN.execute(
                host.store, INSTALL, tenant, lambda done: None if done else event, races=5
            )
            await host.caught_up(host.stream, outcome.seq, timeout=30.0)
        await host.keyring.destroy(tenant)
        async with host.engine.begin() as conn:
            await end_credentials(conn, target.user_id)
        log.info("accounts.user_forgotten", user_id=target.user_id, by_self=event.by == SELF)
        async with host.engine.connect() as conn:
            return await self._report(conn, cmd.user_id)

    async def erasure(self, q: GetErasure) -> ErasureReport:
        async def read(conn: AsyncConnection) -> ErasureReport:
            await self._may(conn, q.by_user, q.user_id)
            return await self._report(conn, q.user_id)

        return await self.host.read(q, read)

    async def erasures(self, q: ListErasures) -> ErasureList:
        async def read(conn: AsyncConnection) -> ErasureList:
            asking = await views.user(conn, q.by_user)
            if q.by_user != INSTALL and (asking is None or asking.role != "owner"):
                raise not_found("this list")
            return ErasureList(erasures=await erasures.latest(conn))

        return await self.host.read(q, read)

    async def _may(self, conn: AsyncConnection, by_user: str, user_id: str) -> None:
        """The person themselves, an owner, or the install's operator on the server machine
        (`INSTALL`: `simtune admin users delete`; the gateway always names the person signed
        in, and no person's id is ever `install`); anyone else reads "not found"."""
        if by_user in (user_id, INSTALL):
            return
        asking = await views.user(conn, by_user)
        if asking is None or asking.role != "owner":
            raise not_found(f"user {user_id}")

    async def _report(self, conn: AsyncConnection, user_id: str) -> ErasureReport:
        report = await erasures.report_of(conn, user_id)
        if report is None:
            raise not_found(f"user {user_id}")
        return report


async def end_credentials(conn: AsyncConnection, user_id: str) -> dict[str, int]:
    """Everything kept beside the log that names the person: sessions, sign-in links,
    passkey ceremonies, and the last uses of keys and passkeys no read model lists any more.
    Their rows, by table (what `runtime.erasure` counts and vacuums)."""
    deleted = {}
    for table in (f"{SCHEMA}.sessions", f"{SCHEMA}.magic_links",
                  f"{SCHEMA}.passkey_challenges"):  # fmt: skip
        result = await conn.execute(text(f"DELETE FROM {table} WHERE user_id = :u"), {"u": user_id})
        deleted[table] = result.rowcount or 0
    orphans = {
        f"{SCHEMA}.key_uses": "key_id NOT IN (SELECT key_id FROM accounts.api_keys)",
        f"{SCHEMA}.passkey_uses": (
            "credential_id NOT IN (SELECT credential_id FROM accounts.passkeys)"
        ),
    }
    for table, where in orphans.items():
        result = await conn.execute(text(f"DELETE FROM {table} WHERE {where}"))
        deleted[table] = result.rowcount or 0
    return deleted


async def credentials_of(conn: AsyncConnection, _tenant: str, user_id: str) -> dict[str, int]:
    """`runtime.erasure`'s extra step for accounts (see `end_credentials`)."""
    return await end_credentials(conn, user_id)
