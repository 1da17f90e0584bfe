"""The log as the truth: a stream that exists is verified and left alone, and a read model
that is ahead of its log (a NATS data directory older than the database) is rebuilt."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import structlog
from nats.js import api as jsapi
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.base import Accepted
from contracts.expert import CreateExpert, ExpertList, ExpertView, GetExpert, ListExperts, Profile
from runtime.devstack.nats_server import EmbeddedNats
from runtime.eventstore import EventStore
from runtime.rpc import DomainError, request
from tests.support.flows import create_expert
from tests.support.inprocess import start_service

pytestmark = pytest.mark.integration


async def test_an_existing_stream_is_verified_and_left_untouched(nc):
    js = nc.jetstream()
    context = f"probe{uuid.uuid4().hex[:6]}"
    name = context.upper()
    theirs = jsapi.StreamConfig(
        name=name,
        subjects=[f"evt.{context}.>"],
        storage=jsapi.StorageType.FILE,
        description="tuned by the operators",
        max_msg_size=65536,
        deny_delete=True,
        deny_purge=False,  # and one difference that matters
    )
    await js.add_stream(theirs)
    try:
        with structlog.testing.capture_logs() as logs:
            assert await EventStore(js).ensure_stream(context) == name
        config = (await js.stream_info(name)).config
        assert config.description == "tuned by the operators"
        assert config.max_msg_size == 65536 and config.deny_purge is False
        warnings = [e for e in logs if e["event"] == "stream.differs"]
        assert len(warnings) == 1 and warnings[0]["stream"] == name
        assert warnings[0]["differences"] == ["deny_purge is False, expected True"]
    finally:
        await js.delete_stream(name)


async def test_a_missing_stream_is_created_durable(nc):
    js = nc.jetstream()
    context = f"fresh{uuid.uuid4().hex[:6]}"
    with structlog.testing.capture_logs() as logs:
        name = await EventStore(js).ensure_stream(context)
    try:
        config = (await js.stream_info(name)).config
        assert config.storage == jsapi.StorageType.FILE and config.deny_delete
        assert config.deny_purge and not config.max_age
        assert not [e for e in logs if e["event"] == "stream.differs"]
    finally:
        await js.delete_stream(name)


@pytest.fixture
async def own_database(servers):
    """An empty database of its own on the session's Postgres."""
    name = f"older_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(servers.database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield servers.database_url.replace("/simtune?", f"/{name}?")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    await admin.dispose()


async def names(host) -> list[str]:
    reply = await request(host.nc, "qry.expert.list", ListExperts(), ExpertList)
    return sorted(e.name for e in reply.experts)


async def test_a_log_older_than_the_read_model_is_noticed_and_replayed(servers, own_database):
    home = Path(tempfile.mkdtemp(prefix="simtune-older-"))
    nats = EmbeddedNats(home / "nats").start()
    # this NATS's home: the service signs in with the credentials its server made there
    settings = servers.settings(
        NATS_URL=nats.url, DATABASE_URL=own_database, SIMTUNE_HOME=str(home)
    )
    host = None
    try:
        host = await start_service(settings, "expert")
        for name in ("kept 1", "kept 2"):
            await create_expert(host.nc, name)
        await host.wait_caught_up()
        await host.stop()
        host = None
        nats.stop()
        shutil.copytree(home / "nats", home / "older")  # the log as a backup has it
        nats.start()
        host = await start_service(settings, "expert")
        for name in ("lost 1", "lost 2", "lost 3"):
            await create_expert(host.nc, name)
        await host.wait_caught_up()
        assert await names(host) == ["kept 1", "kept 2", "lost 1", "lost 2", "lost 3"]
        await host.stop()
        nats.stop()
        shutil.rmtree(home / "nats")  # the server comes back with the older store
        shutil.copytree(home / "older", home / "nats")
        nats.start()

        with structlog.testing.capture_logs() as logs:
            host = await start_service(settings, "expert")
        ahead = [e for e in logs if e["event"] == "projection.ahead_of_log"]
        assert ahead and ahead[0]["projection"] == "expert.experts"
        assert ahead[0]["checkpoint"] == 5 and ahead[0]["last_seq"] == 2
        assert await names(host) == ["kept 1", "kept 2"]
        await create_expert(host.nc, "new 3")  # sequence 3 again: applied, not skipped
        await host.wait_caught_up()
        assert await names(host) == ["kept 1", "kept 2", "new 3"]
    finally:
        if host is not None:
            await host.stop()
        nats.stop()
        shutil.rmtree(home, ignore_errors=True)


async def test_projections_go_on_after_the_nats_server_restarts(servers, own_database):
    """Readers keep nothing on the server, so a restart that loses their consumers costs a
    new consumer from the checkpoint, not the projection."""
    home = Path(tempfile.mkdtemp(prefix="simtune-restart-"))
    nats = EmbeddedNats(home / "nats").start()
    # this NATS's home: the service signs in with the credentials its server made there
    settings = servers.settings(
        NATS_URL=nats.url, DATABASE_URL=own_database, SIMTUNE_HOME=str(home)
    )
    host = await start_service(settings, "expert")
    try:
        await create_expert(host.nc, "before the restart")
        await host.wait_caught_up()
        reader = host.projectors["expert.experts"]._readers["EXPERT"]
        consumer = reader._name
        nats.stop()
        nats.start()
        deadline = asyncio.get_running_loop().time() + 30
        while not host.nc.is_connected:
            assert asyncio.get_running_loop().time() < deadline, "no reconnect"
            await asyncio.sleep(0.1)
        create = CreateExpert(expert_id="after-it", profile=Profile(name="after it"))
        while True:  # JetStream takes a moment to recover its streams
            try:
                seq = (await request(host.nc, "cmd.expert.create", create, Accepted)).seq
                break
            except DomainError as err:
                if err.code == "conflict":  # an earlier try went through after all
                    seq = (await host.js.stream_info("EXPERT")).state.last_seq
                    break
                assert asyncio.get_running_loop().time() < deadline, err.detail
                await asyncio.sleep(0.2)
        query = GetExpert(expert_id="after-it", after_seq=seq)
        while True:  # read-your-writes answers once the reader has its new consumer
            try:
                view = await request(host.nc, "qry.expert.get", query, ExpertView)
                break
            except DomainError as err:
                assert err.code == "unavailable"
                assert asyncio.get_running_loop().time() < deadline, "the projection stopped"
        assert view.name == "after it" and reader._name != consumer  # a new consumer
        assert await names(host) == ["after it", "before the restart"]
    finally:
        await host.stop()
        nats.stop()
        shutil.rmtree(home, ignore_errors=True)
