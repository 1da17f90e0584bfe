"""NATS requires credentials, and each one publishes only what it is for (issue 20).

Each test runs an embedded NATS of its own (it starts in well under a second): the refusals
below leave violations in its log, which the session's shared server must never show.
"""

from __future__ import annotations

from pathlib import Path

import nats
import pytest
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout

from runtime.devstack.nats_server import EmbeddedNats
from runtime.eventstore import EventStore
from runtime.nats_auth import GATEWAY, connect_options
from runtime.settings import Settings, load_settings
from tests.support.servers import admin_connect, permission_violations

pytestmark = pytest.mark.integration

REFUSED_IN_S = 1.0  # a publish the server drops is never acknowledged: how long to wait


@pytest.fixture
async def server(tmp_path: Path):
    nats_server = EmbeddedNats(tmp_path / "nats").start()
    try:
        yield nats_server
    finally:
        nats_server.stop()


def settings_of(server: EmbeddedNats, **env: str) -> Settings:
    """What a process of this install reads: SIMTUNE_HOME is the folder above the server's."""
    return load_settings({"SIMTUNE_HOME": str(server.data_dir.parent), **env})


class Connection:
    """A connection as one user, and every error the server sent it (`-ERR` lines that do
    not close the connection, such as a permissions violation, reach only this callback)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.nc: nats.NATS | None = None

    async def open(self, url: str, **options) -> Connection:
        async def remember(error: Exception) -> None:
            self.errors.append(str(error))

        self.nc = await nats.connect(url, error_cb=remember, **options)
        return self

    async def close(self) -> None:
        if self.nc is not None:
            await self.nc.close()


async def refused(url: str, **options) -> str:
    """The reason the server gives for refusing a connection with these options."""
    with pytest.raises(NatsError) as refusal:
        await nats.connect(url, allow_reconnect=False, connect_timeout=2, **options)
    return str(refusal.value)


async def events_on(admin: nats.NATS, stream: str) -> int:
    return (await admin.jetstream().stream_info(stream)).state.messages


async def test_a_connection_without_credentials_is_refused(server):
    assert "authorization violation" in (await refused(server.url)).lower()
    # the same address with the admin's credentials is let in: the server is up and listening
    admin = await admin_connect(server.url, server.data_dir.parent)
    assert admin.is_connected
    await admin.close()


async def test_a_wrong_password_is_refused(server):
    expert = connect_options(settings_of(server), "expert")
    assert expert["user"] == "expert"
    wrong = {**expert, "password": expert["password"][:-1] + "x"}
    assert "authorization violation" in (await refused(server.url, **wrong)).lower()
    another_users = {"user": "ingest", "password": expert["password"]}
    assert "authorization violation" in (await refused(server.url, **another_users)).lower()


async def test_a_service_cannot_publish_another_contexts_events(server):
    admin = await admin_connect(server.url, server.data_dir.parent)
    store = EventStore(admin.jetstream())
    for context in ("expert", "ingest"):
        await store.ensure_stream(context)
    expert = await Connection().open(server.url, **connect_options(settings_of(server), "expert"))
    try:
        js = expert.nc.jetstream()
        subject = "evt.ingest.local.document.d1"
        with pytest.raises(NatsTimeout):
            await js.publish(subject, b'{"forged": true}', timeout=REFUSED_IN_S)
        assert any("permissions violation" in e and subject in e for e in expert.errors)
        assert await events_on(admin, "INGEST") == 0
        assert any(subject in line for line in permission_violations(server.data_dir))

        # its own context's events it appends as ever, on the same connection
        ack = await js.publish("evt.expert.local.expert.e1", b"{}", timeout=5)
        assert ack.stream == "EXPERT" and await events_on(admin, "EXPERT") == 1

        # nor may it delete (or purge) the log of a context through the JetStream API
        with pytest.raises(NatsTimeout):
            await expert.nc.request("$JS.API.STREAM.DELETE.INGEST", b"", timeout=REFUSED_IN_S)
        assert (await admin.jetstream().stream_info("INGEST")).config.name == "INGEST"
    finally:
        await expert.close()
        await admin.close()


async def test_the_gateway_publishes_no_event(server):
    admin = await admin_connect(server.url, server.data_dir.parent)
    await EventStore(admin.jetstream()).ensure_stream("expert")
    gateway = await Connection().open(server.url, **connect_options(settings_of(server), GATEWAY))
    try:
        subject = "evt.expert.local.expert.e1"
        with pytest.raises(NatsTimeout):
            await gateway.nc.jetstream().publish(subject, b"{}", timeout=REFUSED_IN_S)
        assert any("permissions violation" in e and subject in e for e in gateway.errors)
        assert await events_on(admin, "EXPERT") == 0

        # a query it may send: the answer comes back on its inbox
        async def pong(msg) -> None:
            await msg.respond(b"pong")

        answering = await admin.subscribe("qry.expert.ping", cb=pong)
        await admin.flush()  # the server knows the subscription before the request
        reply = await gateway.nc.request("qry.expert.ping", b"", timeout=5)
        assert reply.data == b"pong"
        await answering.unsubscribe()
    finally:
        await gateway.close()
        await admin.close()


async def test_NATS_USER_and_NATS_PASSWORD_choose_who_connects(server, tmp_path):
    ingest = connect_options(settings_of(server), "ingest")
    # a process whose SIMTUNE_HOME holds no credentials (a deployment's own NATS, say)
    elsewhere = load_settings({"SIMTUNE_HOME": str(tmp_path / "elsewhere")})
    assert connect_options(elsewhere, "expert") == {}
    told = load_settings(
        {
            "SIMTUNE_HOME": str(tmp_path / "elsewhere"),
            "NATS_USER": ingest["user"],
            "NATS_PASSWORD": ingest["password"],
        }
    )
    admin = await admin_connect(server.url, server.data_dir.parent)
    await EventStore(admin.jetstream()).ensure_stream("ingest")
    conn = await Connection().open(server.url, **connect_options(told, "expert"))
    try:  # it is the ingest user whatever the process is called: ingest's events it may append
        ack = await conn.nc.jetstream().publish("evt.ingest.local.document.d1", b"{}", timeout=5)
        assert ack.stream == "INGEST" and conn.errors == []
    finally:
        await conn.close()
        await admin.close()
