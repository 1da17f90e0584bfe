"""The accounts service over NATS, on an install of its own (fresh NATS and Postgres, so
"nobody has an account yet" holds at the start): the setup link, people and their keys,
sessions and sign-in links (mailed to a real SMTP server, or logged), the rate limit, and
the read models under faults (an event no build knows, a rebuild).

Nothing here is long work (every command answers in milliseconds), so there is no process
to kill mid-work.
"""

from __future__ import annotations

import os
import re
import stat
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
import structlog
from sqlalchemy import text

from contracts.accounts import (
    ApiKeyIssued,
    ClaimSetup,
    CreateUser,
    EndSessions,
    GetSetup,
    IssueApiKey,
    ListApiKeys,
    ListSessions,
    ListUsers,
    RedeemMagicLink,
    RemoveUser,
    RevokeApiKey,
    SendMagicLink,
    StartSession,
    Whois,
)
from contracts.base import DomainError, Event, RebuildProjections
from runtime import codec
from runtime.headers import EVENT_TYPE as H_EVENT_TYPE
from runtime.headers import TENANT as H_TENANT
from runtime.projector import Pacing
from runtime.rpc import ask
from runtime.settings import load_settings
from services.accounts.credentials import SCHEMA
from services.accounts.tokens import digest, new_key
from tests.support.inprocess import start_service
from tests.support.servers import TEST_ENV, own_servers
from tests.support.smtp_sink import SmtpSink
from tests.support.views import snapshot
from tests.support.waiting import until

pytestmark = pytest.mark.integration

PUBLIC_URL = "http://console.simtune.test:8000"
LINK_BASE = f"{PUBLIC_URL}/signin/email?token="


class Install:
    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.host, self.nc = env, None, None

    def settings(self, **overrides: str):
        return load_settings({**TEST_ENV, **self.env, "SIMTUNE_PUBLIC_URL": PUBLIC_URL,
                              **overrides})  # fmt: skip

    async def start(self, **overrides: str):
        self.host = await start_service(self.settings(**overrides), "accounts")
        self.nc = self.host.nc
        return self.host

    async def restart(self, **overrides: str):
        await self.host.stop()
        return await self.start(**overrides)


@pytest.fixture(scope="module")
async def install():
    with own_servers("simtune-accounts-") as env:
        found = Install(env)
        with structlog.testing.capture_logs() as logs:
            await found.start()
        found.start_logs = logs
        yield found
        await found.host.stop()


class refused:  # noqa: N801 - used as `with refused("not_found") as err:`
    """`with refused("not_found") as err:` — the request is refused with that code."""

    def __init__(self, code: str) -> None:
        self.code, self.error = code, None

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        assert isinstance(error, DomainError), f"expected a refusal ({self.code}), got {error!r}"
        assert error.code == self.code, (error.code, error.detail)
        self.error = error
        return True


def address() -> str:
    return f"person-{uuid.uuid4().hex[:8]}@simtune.test"


async def owner(install: Install) -> str:
    """The install's first owner, made through the setup link (the first test that needs
    one makes them): their user id."""
    users = (await ask(install.nc, ListUsers())).users
    owners = [u for u in users if u.role == "owner"]
    if owners:
        return owners[0].user_id
    token = setup_token(install)
    signed = await ask(install.nc, ClaimSetup(setup_token=token, email="Owner@Simtune.test"))
    return signed.user_id


def setup_token(install: Install) -> str:
    link = (install.host.settings.home / "setup-link.txt").read_text().strip()
    return link.rsplit("token=", 1)[1]


# ---- the setup link -----------------------------------------------------------------------------


async def test_the_setup_link_makes_the_first_owner_once(install):
    nc, home = install.nc, install.host.settings.home
    assert (await ask(nc, GetSetup())).needed
    (said,) = [e for e in install.start_logs if e["event"].startswith("No one has an account yet")]
    assert said["log_level"] == "warning"
    link_file = home / "setup-link.txt"
    link = link_file.read_text().strip()
    assert said["event"] == f"No one has an account yet. Open {link} to create the owner."
    assert link.startswith(f"{PUBLIC_URL}/setup?token=")
    assert stat.S_IMODE(os.stat(link_file).st_mode) == 0o600
    token = setup_token(install)

    with refused("not_found") as wrong:
        await ask(nc, ClaimSetup(setup_token="not-the-token", email="owner@simtune.test"))
    assert wrong.error.detail == "this setup link is not valid or was already used"

    signed = await ask(nc, ClaimSetup(setup_token=token, email="Owner@Simtune.test",
                                      user_agent="pytest"))  # fmt: skip
    assert signed.email == "owner@simtune.test" and signed.role == "owner"
    who = await ask(nc, Whois(credential=signed.token))
    assert (who.tenant, who.via, who.actor) == ("local", "session", "owner@simtune.test")
    assert who.scopes == ["read", "write", "admin"]
    assert not link_file.exists() and not (await ask(nc, GetSetup())).needed

    with refused("not_found") as again:
        await ask(nc, ClaimSetup(setup_token=token, email="intruder@simtune.test"))
    assert again.error.detail == "this setup link is not valid or was already used"
    assert [u.email for u in (await ask(nc, ListUsers())).users] == ["owner@simtune.test"]

    # a restart once someone has an account offers no new link
    await install.restart()
    assert not link_file.exists()


# ---- people and keys ------------------------------------------------------------------------------


async def test_a_user_made_with_a_key_is_known_by_it_in_a_tenant_of_their_own(install):
    nc = install.nc
    await owner(install)
    email = address()
    made = await ask(nc, CreateUser(email=email.upper().replace("@SIMTUNE.TEST", "@Simtune.test"),
                                    api_key=True, created_by="owner@simtune.test"))  # fmt: skip
    assert made.email == email and made.role == "member" and made.tenant == made.user_id
    assert made.api_key.startswith("sk-sim-") and len(made.api_key) == len("sk-sim-") + 43
    who = await ask(nc, Whois(credential=made.api_key))
    assert (who.user_id, who.tenant, who.via) == (made.user_id, made.user_id, "key")
    assert who.scopes == ["read", "write"]
    assert who.actor == f"{email} (key created with the account)"
    (listed,) = (await ask(nc, ListApiKeys(user_id=made.user_id))).keys
    assert listed.prefix == made.api_key[:11] and made.api_key not in str(listed)
    assert listed.last_used_at is not None  # the whois above used it

    with refused("conflict") as twice:
        await ask(nc, CreateUser(email=email.upper()))
    assert "already has an account" in twice.error.detail


async def test_a_member_key_with_admin_is_refused_naming_the_scope(install):
    made = await ask(install.nc, CreateUser(email=address()))
    with refused("invalid") as admin:
        await ask(install.nc, IssueApiKey(user_id=made.user_id, name="root",
                                          scopes=["read", "admin"]))  # fmt: skip
    assert "admin" in admin.error.detail


async def test_a_revoked_key_is_refused_and_another_users_key_is_not_found(install):
    nc = install.nc
    ada = await ask(nc, CreateUser(email=address()))
    bob = await ask(nc, CreateUser(email=address()))
    key = await ask(nc, IssueApiKey(user_id=ada.user_id, name="laptop", expires_in_days=7))
    expected = datetime.now(UTC) + timedelta(days=7)
    assert abs(datetime.fromisoformat(key.expires_at) - expected) < timedelta(minutes=1)
    assert (await ask(nc, Whois(credential=key.key))).key_id == key.id

    with refused("not_found"):  # bob cannot revoke ada's key by naming it as his
        await ask(nc, RevokeApiKey(user_id=bob.user_id, key_id=key.id))
    assert (await ask(nc, Whois(credential=key.key))).user_id == ada.user_id

    await ask(nc, RevokeApiKey(user_id=ada.user_id, key_id=key.id, revoked_by="ada"))
    with refused("not_found"):
        await ask(nc, Whois(credential=key.key))
    (listed,) = (await ask(nc, ListApiKeys(user_id=ada.user_id))).keys
    assert listed.revoked


async def test_an_expired_key_is_refused(install):
    nc, host = install.nc, install.host
    made = await ask(nc, CreateUser(email=address()))
    key = new_key()
    issued_long_ago = ApiKeyIssued(
        user_id=made.user_id, key_id=key.key_id, name="old", prefix=key.prefix,
        key_sha256=key.sha256, scopes=["read"], expires_at="2020-01-01T00:00:00+00:00",
    )  # fmt: skip
    seq = await host.store.append("accounts", made.tenant, "user", made.user_id,
                                  issued_long_ago, expected_seq=None)  # fmt: skip
    await host.caught_up(host.stream, seq)
    with refused("not_found"):
        await ask(nc, Whois(credential=key.key))


async def test_a_removed_users_keys_and_sessions_stop_working(install):
    nc = install.nc
    made = await ask(nc, CreateUser(email=address(), api_key=True))
    session = await ask(nc, StartSession(user_id=made.user_id, method="cli"))
    assert (await ask(nc, Whois(credential=session.token))).via == "session"

    await ask(nc, RemoveUser(user_id=made.user_id, removed_by="owner@simtune.test"))
    for credential in (made.api_key, session.token):
        with refused("not_found"):
            await ask(nc, Whois(credential=credential))
    assert made.user_id not in [u.user_id for u in (await ask(nc, ListUsers())).users]
    assert (await ask(nc, ListSessions(user_id=made.user_id))).sessions == []
    with refused("not_found"):
        await ask(nc, StartSession(user_id=made.user_id, method="passkey"))


async def test_the_last_owner_cannot_be_removed_but_one_of_two_can(install):
    nc = install.nc
    first = await owner(install)
    with refused("conflict") as last:
        await ask(nc, RemoveUser(user_id=first))
    assert "last owner" in last.error.detail
    second = await ask(nc, CreateUser(email=address(), role="owner"))
    await ask(nc, RemoveUser(user_id=second.user_id))
    with refused("conflict"):
        await ask(nc, RemoveUser(user_id=first))


# ---- sessions and sign-in links -----------------------------------------------------------------


async def test_sessions_are_listed_marked_and_ended_one_or_all(install):
    nc = install.nc
    made = await ask(nc, CreateUser(email=address()))
    one, two = [await ask(nc, StartSession(user_id=made.user_id, method="passkey",
                                           user_agent=f"browser {n}")) for n in (1, 2)]  # fmt: skip
    listed = (await ask(nc, ListSessions(user_id=made.user_id, current=one.token))).sessions
    assert sorted(s.user_agent for s in listed) == ["browser 1", "browser 2"]
    assert [s.current for s in listed if s.user_agent == "browser 1"] == [True]
    assert one.token not in str(listed)

    await ask(nc, EndSessions(token=one.token))
    with refused("not_found"):
        await ask(nc, Whois(credential=one.token))
    assert (await ask(nc, Whois(credential=two.token))).user_id == made.user_id
    three = await ask(nc, StartSession(user_id=made.user_id, method="cli"))
    await ask(nc, EndSessions(token=three.token, everywhere=True))
    for token in (two.token, three.token):
        with refused("not_found"):
            await ask(nc, Whois(credential=token))


async def test_a_logged_sign_in_link_signs_in_once_and_an_unknown_address_gets_the_same_reply(
    install,
):
    nc = install.nc
    made = await ask(nc, CreateUser(email=address()))
    with structlog.testing.capture_logs() as logs:
        sent = await ask(nc, SendMagicLink(email=made.email.upper(), link_base=LINK_BASE))
        unknown = await ask(nc, SendMagicLink(email=address(), link_base=LINK_BASE))
    assert sent == unknown and sent.delivery == "log"
    (said,) = [e for e in logs if e["event"].startswith("Sign-in link for")]
    assert said["log_level"] == "warning" and said["email"] == made.email
    token = re.search(re.escape(LINK_BASE) + r"(\S+)", said["event"]).group(1)

    signed = await ask(nc, RedeemMagicLink(token=token, user_agent="pytest"))
    assert signed.user_id == made.user_id
    assert (await ask(nc, Whois(credential=signed.token))).email == made.email
    with refused("not_found") as again:
        await ask(nc, RedeemMagicLink(token=token))
    assert "already used" in again.error.detail


async def test_an_expired_sign_in_link_is_refused(install):
    nc, host = install.nc, install.host
    made = await ask(nc, CreateUser(email=address()))
    token = await link_for(install, made.email)
    async with host.engine.begin() as conn:
        await conn.execute(
            text(f"UPDATE {SCHEMA}.magic_links SET expires_at = now() - interval '1 second'"
                 " WHERE sha256 = :h"), {"h": digest(token)},
        )  # fmt: skip
    with refused("not_found") as expired:
        await ask(nc, RedeemMagicLink(token=token))
    assert "expired" in expired.error.detail


async def link_for(install: Install, email: str) -> str:
    with structlog.testing.capture_logs() as logs:
        await ask(install.nc, SendMagicLink(email=email, link_base=LINK_BASE))
    (said,) = [e for e in logs if e["event"].startswith("Sign-in link for")]
    return re.search(re.escape(LINK_BASE) + r"(\S+)", said["event"]).group(1)


async def test_the_sixth_link_in_a_quarter_hour_is_rate_limited(install):
    nc = install.nc
    made = await ask(nc, CreateUser(email=address()))
    for _ in range(5):
        await ask(nc, SendMagicLink(email=made.email, link_base=LINK_BASE))
    with refused("rate_limited") as limited:
        await ask(nc, SendMagicLink(email=made.email, link_base=LINK_BASE))
    assert "wait" in limited.error.detail
    stranger = address()  # an unknown address is limited alike, so 429 tells nothing
    for _ in range(5):
        await ask(nc, SendMagicLink(email=stranger, link_base=LINK_BASE))
    with refused("rate_limited"):
        await ask(nc, SendMagicLink(email=stranger, link_base=LINK_BASE))


async def test_a_sign_in_link_is_mailed_through_the_smtp_server(install):
    sink = await SmtpSink().start()
    try:
        url = sink.url("mailer", "s3cret", sender="simtune@simtune.test")
        with structlog.testing.capture_logs() as logs:
            await install.restart(SIMTUNE_SMTP_URL=url)
            made = await ask(install.nc, CreateUser(email=address()))
            sent = await ask(install.nc, SendMagicLink(email=made.email, link_base=LINK_BASE))
        assert sent.delivery == "email"
        (mail,) = sink.mails
        assert mail.recipients == [made.email] and mail.login == "mailer"
        assert mail.message["From"] == "simtune@simtune.test"
        assert mail.message["Subject"] == "Sign in to Simtune"
        token = re.search(re.escape(LINK_BASE) + r"(\S+)", mail.message.get_content()).group(1)
        assert (await ask(install.nc, RedeemMagicLink(token=token))).user_id == made.user_id
        assert "s3cret" not in str(logs) and token not in str(logs)
    finally:
        await sink.stop()
        await install.restart()


# ---- the read models under faults ---------------------------------------------------------------


async def test_a_rebuild_equals_the_live_read_models_and_keeps_every_credential(install):
    nc, host = install.nc, install.host
    made = await ask(nc, CreateUser(email=address(), api_key=True))
    session = await ask(nc, StartSession(user_id=made.user_id, method="cli"))
    await ask(nc, Whois(credential=made.api_key))
    live = await snapshot(host)
    assert live[0] and live[1]
    job = await ask(nc, RebuildProjections(), context="accounts")

    async def rebuilt():
        from contracts.base import GetRebuildJob

        found = await ask(nc, GetRebuildJob(job_id=job.id), context="accounts")
        return found if found.state != "running" else None

    assert (await until(rebuilt, what="the rebuild")).state == "done"
    assert await snapshot(host) == live
    assert (await ask(nc, Whois(credential=made.api_key))).user_id == made.user_id
    assert (await ask(nc, Whois(credential=session.token))).user_id == made.user_id
    (key,) = (await ask(nc, ListApiKeys(user_id=made.user_id))).keys
    assert key.last_used_at is not None  # kept beside the credentials, not in the view


async def test_an_event_no_build_knows_is_held_not_skipped(install):
    """Last in this module: the ACCOUNTS log keeps the event for good."""
    nc, host = install.nc, install.host
    projector = host.projectors["accounts.users"]
    paced = {name: p.pacing for name, p in host.projectors.items()}
    for p in host.projectors.values():
        p.pacing = Pacing(hold_retry_s=0.1, idle_s=0.3)
    tag = f"accounts.UserRenamed{uuid.uuid4().hex[:6]}"
    try:
        body = msgspec.json.encode({"type": tag, "user_id": "u1", "email": "x@simtune.test"})
        headers = {H_EVENT_TYPE: tag, H_TENANT: "u1", "Nats-Msg-Id": str(uuid.uuid4())}
        held = (await nc.jetstream().publish("evt.accounts.u1.user.u1", body,
                                             headers=headers)).seq  # fmt: skip

        async def waiting():
            health = await projector.health()
            return health if health.state == "waiting" else None

        health = await until(waiting, what="the projection to hold the event")
        assert health.detail == f"held at ACCOUNTS {held}: needs a newer build for {tag}"
        assert health.checkpoints["ACCOUNTS"] == held - 1

        class UserRenamed(Event, frozen=True, tag=tag):  # the upgrade: a build that knows it
            user_id: str
            email: str

        codec.register_events(UserRenamed)

        async def moved_on():
            return (await projector.health()).checkpoints["ACCOUNTS"] >= held

        await until(moved_on, what="the projections to move on")
        made = await ask(nc, CreateUser(email=address(), api_key=True))
        assert (await ask(nc, Whois(credential=made.api_key))).user_id == made.user_id
    finally:
        for name, pacing in paced.items():
            host.projectors[name].pacing = pacing
