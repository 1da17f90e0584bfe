"""Personal content on the event log is ciphertext, and a forgotten tenant's events read as
forgotten: sealing and opening against the real keyring (Postgres), and on the real stack a
canary that the API shows but JetStream only holds sealed, a rebuild after forgetting that
leaves the person's rows out and everyone else's in, and reactors that do nothing for them.
"""

from __future__ import annotations

import uuid

import msgspec
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url

from contracts.answers import AnswerGiven, FeedbackGiven
from contracts.answers.values import GivenSource
from contracts.base import Accepted, DomainError
from contracts.expert import (
    CreateExpert,
    ExpertDeleted,
    ExpertView,
    GetExpert,
    Profile,
    ProfilePatch,
    UpdateExpert,
)
from contracts.expert import ExpertUpdated as Updated
from runtime.codec import encode
from runtime.db import make_engine
from runtime.eventstore import EventStore, subject_for
from runtime.keyring import Keyring
from runtime.reactor import Reactor
from runtime.rpc import request
from runtime.sealing import MARK, ForgottenEvent, SealedWithoutKeyring, Sealer, TenantForgotten
from runtime.secrets import SecretBox, SecretUnreadable
from runtime.settings import load_settings
from tests.support.inprocess import start_service
from tests.support.servers import TEST_ENV, own_servers
from tests.support.waiting import until

pytestmark = pytest.mark.integration

STREAM = "EXPERT"
CANARY = "zebra-quartz-canary"


@pytest.fixture
async def sealer(servers):
    """A sealer on a keyring in a database of its own (a rotation or a destroy here never
    touches the keys of the session's services)."""
    name = f"sealing_{uuid.uuid4().hex[:12]}"
    admin = make_engine(servers.database_url).execution_options(isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(servers.database_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=2)
    master = SecretBox(Fernet.generate_key())
    made = Sealer(Keyring(engine, master))
    made.master = master
    yield made
    await engine.dispose()
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    await admin.dispose()


def answer(question: str = f"What does {CANARY} mean?") -> AnswerGiven:
    return AnswerGiven(
        answer_id="a1",
        expert_id="e1",
        mode="rag",
        question=question,
        sources=[
            GivenSource(
                n=1, document_id="d1", filename=f"{CANARY}.pdf", page=1, chunk_id="c1", text="A."
            )
        ],
        answer=f"It means {CANARY}.",
        backend="local",
        model="tiny",
    )


def field(data: bytes, name: str) -> str:
    return msgspec.json.decode(data)[name]


def with_field(data: bytes, name: str, value) -> bytes:
    raw = msgspec.json.decode(data)
    raw[name] = value
    return encode(raw)


# ---- the facility ----------------------------------------------------------------------------


async def test_personal_fields_are_sealed_and_open_back_to_the_same_event(sealer):
    event = answer()
    data = await sealer.seal(STREAM, "alice", event)
    assert CANARY.encode() not in data
    for name in ("question", "sources", "answer"):
        assert field(data, name).startswith(MARK)
    assert field(data, "answer_id") == "a1" and field(data, "model") == "tiny"  # ids stay plain
    assert field(data, "citations") == []  # nothing to seal in an empty field
    assert await sealer.open(STREAM, "alice", data) == event


async def test_an_event_without_personal_content_goes_on_the_log_as_it_encodes(sealer):
    event = ExpertDeleted(expert_id="e1")
    assert await sealer.seal(STREAM, "alice", event) == encode(event)
    assert await sealer.open(STREAM, "alice", encode(event)) == event


async def test_a_plain_event_from_before_sealing_still_reads(sealer):
    event = answer()
    assert await sealer.open(STREAM, "alice", encode(event)) == event


async def test_a_sealed_value_moved_elsewhere_does_not_open(sealer):
    data = await sealer.seal(STREAM, "alice", answer())
    await sealer.seal(STREAM, "bob", answer("Bob's own question?"))  # bob has a key too
    question = field(data, "question")
    with pytest.raises(SecretUnreadable):  # into another field
        await sealer.open(STREAM, "alice", with_field(data, "answer", question))
    with pytest.raises(SecretUnreadable):  # into another stream
        await sealer.open("INGEST", "alice", data)
    with pytest.raises(SecretUnreadable):  # into another tenant's event
        await sealer.open(STREAM, "bob", data)
    feedback = await sealer.seal(
        STREAM, "alice", FeedbackGiven(answer_id="a1", expert_id="e1", rating=1, comment="ok")
    )
    with pytest.raises(SecretUnreadable):  # into another event type
        await sealer.open(STREAM, "alice", with_field(feedback, "comment", question))
    damaged = question[:-4] + ("AAAA" if not question.endswith("AAAA") else "BBBB")
    with pytest.raises(SecretUnreadable):
        await sealer.open(STREAM, "alice", with_field(data, "question", damaged))


async def test_a_forgotten_tenant_reads_as_forgotten_and_takes_nothing_personal(sealer):
    sealed = await sealer.seal(STREAM, "carol", answer())
    plain = encode(ExpertDeleted(expert_id="e1"))
    await sealer.keyring.destroy("carol")
    assert await sealer.keyring.is_forgotten("carol")
    assert not await sealer.keyring.is_forgotten("dave")
    assert await sealer.open(STREAM, "carol", sealed) == ForgottenEvent(of="expert.AnswerGiven")
    assert await sealer.open(STREAM, "carol", plain) == ForgottenEvent(of="expert.ExpertDeleted")
    with pytest.raises(TenantForgotten) as refused:
        await sealer.seal(STREAM, "carol", answer())
    assert refused.value.code == "not_found"
    assert await sealer.seal(STREAM, "carol", ExpertDeleted(expert_id="e1")) == plain


async def test_another_process_learns_that_a_tenant_was_forgotten(sealer):
    other = Sealer(Keyring(sealer.keyring.engine, sealer.master))  # a second process
    data = await sealer.seal(STREAM, "erin", answer())
    assert (await other.open(STREAM, "erin", data)).question == answer().question
    await sealer.keyring.destroy("erin")
    other.keyring._forgotten.clear()  # as it is once CACHE_TTL_S has passed there
    other.keyring._cache.clear()
    assert isinstance(await other.open(STREAM, "erin", data), ForgottenEvent)


# ---- on the real stack ---------------------------------------------------------------------


async def raw_messages(js, stream: str, subject: str) -> list[bytes]:
    """Every message of `subject` as it lies in JetStream."""
    found, seq = [], 1
    while True:
        try:
            msg = await js.get_msg(stream, seq=seq, subject=subject, direct=True, next=True)
        except Exception:
            return found
        found.append(msg.data or b"")
        seq = msg.seq + 1


async def test_personal_content_is_ciphertext_on_jetstream_and_plain_in_the_api(api, stack, nc):
    name = f"{CANARY} {uuid.uuid4().hex[:6]}"
    made = await api.post("/api/experts", json={"name": name, "description": CANARY})
    assert made.status_code == 201, made.text
    expert_id = made.json()["id"]
    shown = (await api.get(f"/api/experts/{expert_id}")).json()
    assert shown["name"] == name

    on_log = await raw_messages(
        nc.jetstream(), STREAM, subject_for("expert", "local", "expert", expert_id)
    )
    assert on_log and all(CANARY.encode() not in data for data in on_log)
    assert MARK.encode() in on_log[0]
    with pytest.raises(SealedWithoutKeyring):  # a reader without the keyring gets no text
        await EventStore(nc.jetstream()).load("expert", "local", "expert", expert_id)
    events, _ = await stack.hosts["expert"].store.load("expert", "local", "expert", expert_id)
    assert events[0].event.profile.name == name


@pytest.fixture(scope="module")
async def install():
    """An install of its own (NATS, Postgres, the expert service in-process): forgetting a
    tenant there leaves the session's log, which other tests count, as it was."""
    with own_servers("simtune-sealing-") as servers:
        host = await start_service(load_settings({**TEST_ENV, **servers}), "expert")
        try:
            yield host
        finally:
            await host.stop()


async def test_after_forgetting_a_tenant_rebuilds_leave_their_rows_out(install):
    host, nc = install, install.nc
    forgotten, kept = f"gone{uuid.uuid4().hex[:8]}", f"kept{uuid.uuid4().hex[:8]}"
    experts = {}
    for tenant in (forgotten, kept):
        made = CreateExpert(tenant=tenant, profile=Profile(name=f"{CANARY} of {tenant}"))
        experts[tenant] = (await request(nc, "cmd.expert.create", made, Accepted)).id
    await host.caught_up_with_log()
    assert await expert_rows(host, forgotten) == [experts[forgotten]]

    await host.keyring.destroy(forgotten)
    assert (await host.rebuild()).projections  # the rebuild succeeds

    assert await expert_rows(host, forgotten) == []  # their rows did not come back
    assert await expert_rows(host, kept) == [experts[kept]]
    view = await request(nc, "qry.expert.get", GetExpert(tenant=kept, expert_id=experts[kept]),
                         ExpertView)  # fmt: skip
    assert view.name == f"{CANARY} of {kept}"

    change = UpdateExpert(
        tenant=forgotten, expert_id=experts[forgotten], changes=ProfilePatch(domain="more")
    )
    with pytest.raises(DomainError) as refused:  # their aggregate reads as never made
        await request(nc, "cmd.expert.update", change, Accepted)
    assert refused.value.code == "not_found"
    with pytest.raises(TenantForgotten):
        await host.store.append(
            "expert",
            forgotten,
            "expert",
            experts[forgotten],
            Updated(expert_id=experts[forgotten], changes=ProfilePatch(domain="more")),
            expected_seq=None,
        )

    handled: list = []

    async def handler(rec, progress) -> None:
        handled.append((rec.tenant, rec.type))

    reactor = Reactor(
        nc, "test.sealing.forgotten", STREAM, handler, subject="evt.expert.>", sealer=host.sealer
    )
    await reactor.start()
    try:
        js = nc.jetstream()

        async def all_acked() -> bool:
            info = await js.consumer_info(STREAM, reactor.durable)
            last = (await js.stream_info(STREAM)).state.last_seq
            return info.ack_floor.stream_seq == last and info.num_ack_pending == 0

        await until(all_acked, what="the reactor acking every event")
    finally:
        await reactor.stop()
    assert (kept, "expert.ExpertCreated") in handled  # it does react to everyone else
    assert not [tenant for tenant, _ in handled if tenant == forgotten]
    assert reactor.parked == 0


async def expert_rows(host, tenant: str) -> list[str]:
    async with host.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT id FROM expert.experts WHERE tenant = :t ORDER BY id"), {"t": tenant}
        )
        return [row[0] for row in rows]
