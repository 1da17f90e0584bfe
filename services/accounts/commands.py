"""Commands of the accounts service: people and their keys (decided on the user's log), and
signing in (sessions, sign-in links, the setup link; kept in `credentials`).

A user's events lie under their own tenant, which the id alone does not tell: `locate`
finds it on the log (their id as tenant, or `local` for the first owner). Creating and
removing people are decided under the directory lock with the read models caught up with
the whole log, so "nobody has an account yet" and "the last owner" hold across replicas.
Every command answers once the read models show its change, so the key it issued works
and the key it revoked does not by the time the reply arrives.
"""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.accounts import (
    OWNER_TENANT,
    ClaimSetup,
    CreateUser,
    EndSessions,
    IssueApiKey,
    IssuedKey,
    LinkSent,
    RedeemMagicLink,
    RemoveUser,
    RevokeApiKey,
    SendMagicLink,
    SignedIn,
    SignInWithGithub,
    StartSession,
    UserCreatedReply,
    UserView,
)
from contracts.base import Accepted, DomainError, ErrorCode
from runtime.eventstore import ConcurrencyError
from runtime.logs import get_logger
from runtime.service import ServiceHost
from services.accounts import domain, setup, views
from services.accounts.aggregates import USER
from services.accounts.credentials import Credentials
from services.accounts.mail import Mailer
from services.accounts.tokens import new_key

log = get_logger(__name__)

RACES = 10  # a key change that lost a race to another append on the same user is decided again
SETUP_REFUSED = "this setup link is not valid or was already used"
LINK_REFUSED = "this sign-in link is not valid, has expired or was already used"
GITHUB_REFUSED = (
    "{email} has no account on this Simtune: ask its owner for an invitation (GitHub signs"
    " in people who have one; it does not make accounts)"
)
DEFAULT_KEY_NAME = "created with the account"


class AccountsCommands:
    def __init__(self, host: ServiceHost, credentials: Credentials, mailer: Mailer) -> None:
        self.host, self.credentials, self.mailer = host, credentials, mailer

    # ---- the user's log -----------------------------------------------------------------------

    async def locate(self, user_id: str) -> tuple[str, domain.User]:
        """The tenant the user's events lie under, and the user as their log has it (the
        initial state under their own id when there is none)."""
        for tenant in (user_id, OWNER_TENANT):
            state, seq = await USER.load(self.host.store, tenant, user_id)
            if seq:
                return tenant, state
        return user_id, domain.INITIAL

    async def decide(self, tenant: str, user_id: str, decide) -> int:
        try:
            outcome = await USER.execute(self.host.store, tenant, user_id, decide, races=RACES)
        except ConcurrencyError as exc:
            raise DomainError(
                ErrorCode.CONFLICT, "this account kept changing while this was decided; try again"
            ) from exc
        await self.shown(outcome.seq)
        return outcome.seq

    async def shown(self, seq: int) -> None:
        """Wait until the read models show the event at `seq` (what `Whois` reads)."""
        await self.host.caught_up(self.host.stream, seq)

    async def user(self, user_id: str) -> UserView:
        async with self.host.engine.connect() as conn:
            found = await views.user(conn, user_id)
        if found is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"user {user_id} was not found")
        return found

    # ---- people -------------------------------------------------------------------------------

    async def create_user(self, cmd: CreateUser) -> UserCreatedReply:
        async with self.credentials.directory():
            created, seq = await self._create(cmd.email, cmd.role, cmd.created_by)
        key = None
        if cmd.api_key:
            issued, seq = await self._issue(created.tenant, created.user_id, DEFAULT_KEY_NAME,
                                            domain.scopes_of(created.role), None)  # fmt: skip
            key = issued.key
        return UserCreatedReply(
            user_id=created.user_id, email=created.email, role=created.role,
            tenant=created.tenant, api_key=key, seq=seq,
        )  # fmt: skip

    async def _create(self, email: str, role: str, by: str, *, first_only: bool = False):
        """Create a user (the directory lock held): the event and its sequence."""
        await self.host.caught_up_with_log()
        first = not await setup.anyone_yet(self.host.js)
        if first_only and not first:
            raise DomainError(ErrorCode.NOT_FOUND, SETUP_REFUSED)
        user_id = await self.id_for(email)
        tenant, state = await self.locate(user_id)
        if state.created is None:  # someone new: the first ever inherits `local`
            tenant = domain.tenant_for(user_id, first=first)
        outcome = await USER.execute(
            self.host.store, tenant, user_id,
            lambda state: domain.decide_create(
                state, email=email, role=role, tenant=tenant, created_by=by, user_id=user_id
            ),
        )  # fmt: skip
        await self.shown(outcome.seq)
        await self.credentials.forget_setup()  # someone has an account: setup is over
        setup.forget_link_file(self.host.settings)
        log.info("accounts.user_created", user_id=user_id, role=role)
        return outcome.event, outcome.seq

    async def id_for(self, email: str) -> str:
        """The id `email` is known by now: its first life's, unless that person's data was
        deleted (then the first life not forgotten: someone new, with a tenant of their own,
        since a forgotten tenant's key is gone for good). Called with the log caught up."""
        life = 0
        async with self.host.engine.connect() as conn:
            while await views.was_forgotten(conn, domain.user_id_of(email, life)):
                life += 1
        return domain.user_id_of(email, life)

    async def remove_user(self, cmd: RemoveUser) -> Accepted:
        async with self.credentials.directory():
            await self.host.caught_up_with_log()
            async with self.host.engine.connect() as conn:
                owners = await views.owners(conn)
            tenant, _ = await self.locate(cmd.user_id)
            seq = await self.decide(
                tenant, cmd.user_id,
                lambda s: domain.decide_remove(
                    s, user_id=cmd.user_id, owners=owners, by=cmd.removed_by
                ),
            )  # fmt: skip
        await self.credentials.forget_user(cmd.user_id)
        log.info("accounts.user_removed", user_id=cmd.user_id)
        return Accepted(id=cmd.user_id, seq=seq)

    # ---- keys ---------------------------------------------------------------------------------

    async def issue_key(self, cmd: IssueApiKey) -> IssuedKey:
        tenant, _ = await self.locate(cmd.user_id)
        issued, _ = await self._issue(
            tenant, cmd.user_id, cmd.name, list(cmd.scopes), cmd.expires_in_days
        )
        return issued

    async def _issue(self, tenant: str, user_id: str, name: str, scopes: list[str],
                     days: int | None) -> tuple[IssuedKey, int]:  # fmt: skip
        key = new_key()
        decided: list = []

        def decide(state: domain.User):
            event = domain.decide_issue_key(
                state, user_id=user_id, key_id=key.key_id, name=name, scopes=scopes,
                prefix=key.prefix, key_sha256=key.sha256, expires_in_days=days,
                now=datetime.now(UTC),
            )  # fmt: skip
            decided.append(event)
            return event

        seq = await self.decide(tenant, user_id, decide)
        event = decided[-1]
        issued = IssuedKey(
            id=event.key_id, name=event.name, prefix=event.prefix, key=key.key,
            scopes=list(event.scopes), expires_at=event.expires_at, seq=seq,
        )  # fmt: skip
        return issued, seq

    async def revoke_key(self, cmd: RevokeApiKey) -> Accepted:
        tenant, _ = await self.locate(cmd.user_id)
        seq = await self.decide(
            tenant, cmd.user_id,
            lambda s: domain.decide_revoke(
                s, user_id=cmd.user_id, key_id=cmd.key_id, by=cmd.revoked_by
            ),
        )  # fmt: skip
        return Accepted(id=cmd.key_id, seq=seq)

    # ---- signing in ---------------------------------------------------------------------------

    async def claim_setup(self, cmd: ClaimSetup) -> SignedIn:
        async with self.credentials.directory():
            if await setup.anyone_yet(self.host.js):
                raise DomainError(ErrorCode.NOT_FOUND, SETUP_REFUSED)
            if not await self.credentials.take_setup_token(cmd.setup_token):
                raise DomainError(ErrorCode.NOT_FOUND, SETUP_REFUSED)
            created, _ = await self._create(cmd.email, "owner", "setup", first_only=True)
        return await self.signed_in(created.user_id, "setup", cmd.user_agent)

    async def send_magic_link(self, cmd: SendMagicLink) -> LinkSent:
        address = domain.canonical(cmd.email)
        if not await self.credentials.count_link_request(address):
            raise DomainError(
                ErrorCode.RATE_LIMITED,
                "too many sign-in links were asked for this address; wait a quarter of an hour"
                " and try again",
            )
        async with self.host.engine.connect() as conn:
            found = await views.user_by_email(conn, address)
        if found is not None:
            token = await self.credentials.new_magic_link(found.user_id)
            await self.mailer.send_link(found.email, cmd.link_base + token)
        return LinkSent(delivery=self.mailer.delivery)

    async def redeem_magic_link(self, cmd: RedeemMagicLink) -> SignedIn:
        user_id = await self.credentials.redeem_magic_link(cmd.token)
        if user_id is None:
            raise DomainError(ErrorCode.NOT_FOUND, LINK_REFUSED)
        try:
            return await self.signed_in(user_id, "email", cmd.user_agent)
        except DomainError as exc:
            raise DomainError(ErrorCode.NOT_FOUND, LINK_REFUSED) from exc

    async def sign_in_with_github(self, cmd: SignInWithGithub) -> SignedIn:
        """The gateway has checked with GitHub that `email` is the GitHub user's verified
        primary address; whoever has an account with it is signed in, no one else."""
        async with self.host.engine.connect() as conn:
            found = await views.user_by_email(conn, domain.canonical(cmd.email))
        if found is None:
            log.info("accounts.github_refused", github_id=cmd.github_id)
            raise DomainError(ErrorCode.NOT_FOUND, GITHUB_REFUSED.format(email=cmd.email))
        log.info("accounts.github_signin", user_id=found.user_id, github_id=cmd.github_id)
        return await self.signed_in(found.user_id, "github", cmd.user_agent)

    async def start_session(self, cmd: StartSession) -> SignedIn:
        return await self.signed_in(cmd.user_id, cmd.method, cmd.user_agent)

    async def signed_in(self, user_id: str, method: str, user_agent: str) -> SignedIn:
        user = await self.user(user_id)
        token, expires = await self.credentials.start_session(user_id, method, user_agent)
        log.info("accounts.signed_in", user_id=user_id, method=method)
        return SignedIn(
            token=token, user_id=user.user_id, email=user.email, role=user.role,
            expires_at=expires.isoformat(timespec="seconds"),
        )  # fmt: skip

    async def end_sessions(self, cmd: EndSessions) -> Accepted:
        """Sign out; a token that opens no session (expired, ended) has nothing to end."""
        user_id = await self.credentials.end_session(cmd.token, everywhere=cmd.everywhere)
        return Accepted(id=user_id or "")
