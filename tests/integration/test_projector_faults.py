"""Projections under faults, on the real NATS and Postgres: a database restored behind its
reader, two replicas of a service, a first batch raced by two projectors, a projection that
cannot apply an event (503s, /health, the CLI, the console banner), a loop that dies."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import text

from contracts.base import Accepted
from contracts.expert import ExpertView, GetExpert, ProfilePatch, UpdateExpert
from runtime import db
from runtime.eventstore import to_recorded
from runtime.projector import Projector
from runtime.rpc import DomainError, request
from runtime.sealing import ForgottenEvent
from services.expert import views
from tests.integration.test_cli import Simtune
from tests.support.api import HTML
from tests.support.flows import create_expert
from tests.support.inprocess import start_service
from tests.support.refusing_view import refusing_view
from tests.support.views import snapshot
from tests.support.waiting import until

pytestmark = pytest.mark.integration


async def expert_row(host, expert_id: str):
    async with host.engine.connect() as conn:
        return await views.get_expert(conn, "local", expert_id)


async def test_a_database_restored_behind_its_reader_is_read_again(services, nc):
    host = services["expert"]
    projector: Projector = host.projectors["expert.experts"]
    before = [await create_expert(nc, f"before {n}") for n in range(3)]
    await host.wait_caught_up()
    async with host.engine.begin() as conn:  # a backup, consistent with its checkpoint
        saved = await db.read_checkpoint(conn, "expert", "expert.experts", "EXPERT")
        await conn.execute(text("DROP TABLE IF EXISTS public.experts_backup"))
        await conn.execute(text("CREATE TABLE public.experts_backup AS TABLE expert.experts"))
    after = [await create_expert(nc, f"after {n}") for n in range(2)]
    await host.wait_caught_up()
    async with host.engine.begin() as conn:  # the backup restored while the service runs
        await db.read_checkpoint(conn, "expert", "expert.experts", "EXPERT")
        await conn.execute(text("DELETE FROM expert.experts"))
        await conn.execute(text("INSERT INTO expert.experts TABLE public.experts_backup"))
        await db.write_checkpoint(conn, "expert", "expert.experts", "EXPERT", saved)
        await conn.execute(text("DROP TABLE public.experts_backup"))
    assert await expert_row(host, after[0]) is None
    # No new event arrives: the idle reader notices it stands past the checkpoint.
    for expert_id in after + before:
        await until(lambda e=expert_id: expert_row(host, e), what=f"expert {expert_id} back")
    live = await snapshot(host)
    await host.rebuild()
    assert await snapshot(host) == live
    # and it goes on: a new expert is read back at once
    accepted = await new_expert_over_nats(nc, "after the restore")
    view = await request(
        nc, "qry.expert.get", GetExpert(expert_id=accepted.id, after_seq=accepted.seq), ExpertView
    )
    assert view.name == "after the restore" and projector.watch.trouble == {}


async def new_expert_over_nats(nc, name: str) -> Accepted:
    from contracts.expert import CreateExpert, Profile

    return await request(
        nc, "cmd.expert.create", CreateExpert(profile=Profile(name=name)), Accepted
    )


async def test_two_replicas_both_read_their_writes_and_apply_each_event_once(servers, services, nc):
    first = services["expert"]
    second = await start_service(servers.settings(), "expert")
    try:
        ids = []
        for n in range(15):
            accepted = await new_expert_over_nats(nc, f"replicated {n}")
            for m in range(2):
                change = UpdateExpert(
                    expert_id=accepted.id, changes=ProfilePatch(domain=f"domain {m}")
                )
                accepted = await request(nc, "cmd.expert.update", change, Accepted)
            for host in (second, first) if n % 2 else (first, second):
                await host.caught_up("EXPERT", accepted.seq)  # either replica, at once
                row = await expert_row(host, accepted.id)
                assert row is not None and row.domain == "domain 1"
            ids.append(accepted.id)
        for expert_id in ids:  # one create and two updates: version 3, not 4 or 5
            view = await request(nc, "qry.expert.get", GetExpert(expert_id=expert_id), ExpertView)
            assert view.version == 3
        live = await snapshot(first)
        await first.rebuild()
        assert await snapshot(first) == live
    finally:
        await second.stop()


class CountingProjection:
    """Notes the sequence of every event it is given: any event applied twice shows."""

    name = "probe.counts"
    streams = ("EXPERT",)
    announce = False
    NOTE = text("INSERT INTO applied (seq) VALUES (:seq)")

    async def create(self, conn) -> None:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS applied (seq bigint NOT NULL)"))

    async def indexes(self, conn) -> None:
        pass

    async def apply(self, out, rec) -> None:
        out.add(self.NOTE, {"seq": rec.seq})


async def projectable_seqs(js, stream: str, upto: int, sealer) -> set[int]:
    """The sequences of `stream` up to `upto` a projection is given: all but a forgotten
    person's events (an earlier test in this worker may have forgotten one), which the
    applier passes over."""
    seqs = set()
    for seq in range((await js.stream_info(stream)).state.first_seq, upto + 1):
        msg = await js.get_msg(stream, seq)
        rec = await to_recorded(stream, seq, msg.subject, msg.data, msg.headers, sealer)
        if not isinstance(rec.event, ForgottenEvent):
            seqs.add(seq)
    return seqs


async def test_two_projectors_starting_together_apply_the_first_batch_once(services, nc):
    await create_expert(nc, "counted")
    host = services["expert"]
    schema = f"probe_{uuid.uuid4().hex[:8]}"
    projectors = [
        Projector(
            nc, host.engine, schema, CountingProjection(), batch_size=1000, sealer=host.sealer
        )
        for _ in range(2)
    ]
    try:
        await asyncio.gather(*(p.start() for p in projectors))
        reached = min([await p.wait_caught_up(timeout=30) for p in projectors])
        expected = await projectable_seqs(nc.jetstream(), "EXPERT", reached, host.sealer)
        async with host.engine.connect() as conn:
            seqs = text(f'SELECT seq FROM "{schema}".applied WHERE seq <= :upto')
            applied = (await conn.scalars(seqs, {"upto": reached})).all()
        assert len(applied) == len(set(applied)), "an event was applied twice"
        assert set(applied) == expected and expected
    finally:
        for p in projectors:
            await p.stop()
        async with host.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


async def test_a_projection_that_cannot_apply_an_event_parks_and_says_so(stack, api):
    host = stack.hosts["expert"]
    poison = f"Poison {uuid.uuid4().hex[:6]}"
    async with refusing_view(host, "expert.experts", f"profile->>'name' <> '{poison}'"):
        response = await api.post("/api/experts", json={"name": poison})
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "unavailable"
        assert "the expert.experts view is behind" in response.json()["detail"]

        async def unhealthy():
            reply = await api.get("/health")
            return reply if reply.status_code == 503 else None

        body = (await until(unhealthy, what="/health to turn 503")).json()
        assert "expert.experts" in body["down"]
        assert "expert.ExpertCreated" in body["detail"] and "refuses_poison" in body["detail"]
        assert "[SQL" not in body["detail"]  # the database's sentence, not the statement
        stuck = [c for c in body["components"] if c["name"] == "expert.experts"][0]
        assert stuck["state"] == "stuck" and stuck["lag"] >= 1

        # a read that asks for a change beyond the stuck event answers 503 at once
        other = await new_expert_over_nats(stack_nc := host.nc, "behind the poison")
        reply = await api.get(f"/api/experts/{other.id}")
        assert reply.status_code in (404, 200)  # no after_seq: the stale view, as asked
        query = GetExpert(expert_id=other.id, after_seq=other.seq)
        with pytest.raises(Exception, match="view is behind"):
            await request(stack_nc, "qry.expert.get", query, ExpertView)
        # At once: told to wait an hour for the view, the service still answers now, since
        # it knows the view is stuck before that change (waiting would end in TimeoutError).
        with pytest.raises(DomainError, match="view is behind"):
            await asyncio.wait_for(host.caught_up("EXPERT", other.seq, timeout=3600), 60)

        result = await Simtune(stack.url, stack.owner.key)("projections", "status")
        assert result.exit_code == 1
        assert "expert.experts" in result.stdout and "stuck" in result.stdout
        assert "expert.experts is stuck" in result.stderr

        page = await api.get("/", headers=HTML)
        assert page.status_code == 200
        assert 'id="health-banner"' in page.text and "expert.experts" in page.text
        assert "<style" not in page.text and "style=" not in page.text  # still CSP-clean
    assert (await api.get("/health")).status_code == 200
    names = [e["name"] for e in (await api.get("/api/experts")).json()]
    assert poison in names and "behind the poison" in names
    assert 'id="health-banner"' not in (await api.get("/", headers=HTML)).text


async def test_a_loop_that_dies_ends_the_process(servers, services):
    replica = await start_service(servers.settings(), "expert")
    died = []
    replica.fatal = lambda name, error: died.append((name, error))
    await replica.nc.close()  # ack, fetch and publish now fail for good
    projections = {f"projection {name}" for name in replica.projectors}
    await until(
        lambda: asyncio.sleep(0, projections <= {name for name, _ in died}),
        what="every projector loop to end",
    )
    for name in replica.projectors:
        assert (await replica.projectors[name].health()).state == "stopped"
    for reactor in replica.reactors:  # its reactors die the same way
        await reactor.stop()
    for projector in replica.projectors.values():
        await projector.stop()
    await replica.engine.dispose()


def test_fatal_ends_the_process_with_status_70():
    code = (
        "from runtime.service import ServiceHost\n"
        "from runtime.settings import load_settings\n"
        "ServiceHost('expert', 'expert', load_settings({})).fatal('loop', RuntimeError('x'))\n"
        "print('still alive')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 70 and "still alive" not in done.stdout
