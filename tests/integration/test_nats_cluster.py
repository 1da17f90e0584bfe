"""The log on a real three-server NATS cluster (SIMTUNE_STREAM_REPLICAS=3): a server killed
mid-stream loses no event and duplicates none, a restarted one catches up, and a cluster
without a majority refuses an append at once with a 503 rather than hanging or half-writing."""

from __future__ import annotations

import time
import uuid

import httpx
import nats
import pytest
import structlog
from nats.js.errors import ServiceUnavailableError

from contracts.base import HTTP_STATUS, ErrorCode
from contracts.expert import ExpertCreated, ExpertUpdated, Profile, ProfilePatch
from runtime import headers as h
from runtime.eventstore import EventStore, LogUnavailable
from runtime.objects import Objects
from tests.support.nats_cluster import ClusterNode, NatsCluster, nats_cluster
from tests.support.waiting import until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

REFUSED_WITHIN_S = 2.0  # how long the store's JetStream context waits for an append's ack
EXPERT = uuid.uuid4().hex[:12]


@pytest.fixture
def cluster():
    with nats_cluster() as started:
        yield started


class Writer:
    """Appends numbered renames of one expert and remembers each event id it sent."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.sent: list[str] = []

    async def append(self, event_id: str | None = None, *, retry_for: float = 0.0) -> int:
        """Append one event (again, under the same id, when `event_id` is one already sent);
        with `retry_for`, an unavailable log is tried again until that many seconds pass."""
        event_id = event_id or str(uuid.uuid4())
        if event_id not in self.sent:
            self.sent.append(event_id)
        event = ExpertUpdated(expert_id=EXPERT, changes=ProfilePatch(name=f"n{len(self.sent)}"))
        deadline = time.monotonic() + retry_for
        while True:
            try:
                return await self.store.append(
                    "expert", "local", "expert", EXPERT, event, expected_seq=None, event_id=event_id
                )
            except LogUnavailable:
                if time.monotonic() > deadline:
                    raise


async def log_of(js, stream: str) -> list[tuple[int, str]]:
    """(sequence, event id) of every message on the stream, read from its leader; read again
    while JetStream says it is briefly unavailable (a leader elected after a server returned)."""

    async def read() -> list[tuple[int, str]] | None:
        try:
            last = (await js.stream_info(stream)).state.last_seq
            return [
                (msg.seq, msg.headers[h.EVENT_ID])
                for msg in [await js.get_msg(stream, seq) for seq in range(1, last + 1)]
            ]
        except ServiceUnavailableError:
            return None

    return await until(read, timeout=30, what=f"{stream} read from its leader")


async def leader_of(js, stream: str) -> str:
    async def leader():
        try:
            info = await js.stream_info(stream)
        except Exception:  # noqa: BLE001 - no leader yet: the request times out or is refused
            return None
        return info.cluster.leader if info.cluster else None

    return await until(leader, timeout=20, what=f"a leader of {stream}")


async def caught_up(js, stream: str, node: ClusterNode, last_seq: int) -> None:
    """Wait until `node` is a current replica of `stream` with no lag, and its own copy ends at
    `last_seq` (as its monitoring endpoint reports it)."""

    async def current():
        info = await js.stream_info(stream)
        replicas = {r.name: r for r in info.cluster.replicas or []}
        if info.cluster.leader == node.name:
            return True
        replica = replicas.get(node.name)
        return replica is not None and replica.current and not replica.lag

    await until(current, timeout=20, what=f"{node.name} to be a current replica of {stream}")

    async def own_copy():
        url = f"http://{node.host}:{node.monitor_port}/jsz?streams=true"
        async with httpx.AsyncClient(timeout=1.0) as http:
            report = (await http.get(url)).json()
        for account in report.get("account_details") or []:
            for found in account.get("stream_detail") or []:
                if found["name"] == stream:
                    return found["state"]["last_seq"] == last_seq and found["state"]
        return None

    await until(own_copy, timeout=20, what=f"{node.name}'s copy of {stream} to end at {last_seq}")


def other_than(cluster: NatsCluster, *names: str) -> ClusterNode:
    return next(node for node in cluster.nodes if node.name not in names)


async def test_a_replicated_log_survives_a_killed_server_and_refuses_writes_without_quorum(
    cluster,
):
    await cluster.meta_leader()
    nc = await cluster.connect()
    try:
        js = nc.jetstream(timeout=REFUSED_WITHIN_S)
        store = EventStore(js, replicas=3)
        stream = await store.ensure_stream("expert")
        info = await js.stream_info(stream)
        assert info.config.num_replicas == 3
        assert len(info.cluster.replicas) == 2  # and the leader: three copies

        writer = Writer(store)
        await store.append(
            "expert", "local", "expert", EXPERT,
            ExpertCreated(expert_id=EXPERT, profile=Profile(name="n0")), expected_seq=0,
        )  # fmt: skip
        for _ in range(5):
            await writer.append()
        events, _ = await store.load("expert", "local", "expert", EXPERT)
        assert [e.event_id for e in events][1:] == writer.sent

        # The stream's leader dies mid-stream: the two others elect one and take writes.
        killed = cluster.node(await leader_of(js, stream))
        killed.kill()
        await writer.append(retry_for=20)  # the same event id each try, while they elect
        for _ in range(5):
            await writer.append()
        assert (await leader_of(js, stream)) != killed.name

        # A second server goes: one of three is no majority, and an append is refused at once.
        stopped = other_than(cluster, killed.name, await leader_of(js, stream))
        stopped.stop()
        refused = str(uuid.uuid4())
        started = time.monotonic()
        with pytest.raises(LogUnavailable) as err:
            await writer.append(refused)
        assert time.monotonic() - started < 3 * REFUSED_WITHIN_S
        assert err.value.code == ErrorCode.UNAVAILABLE and HTTP_STATUS[err.value.code] == 503
        assert "not taking writes" in err.value.detail and "nats" not in err.value.detail.lower()
        assert "may still be kept" in err.value.detail  # it may: see the retry below

        # The killed server comes back: a majority again, appends resume (the refused one
        # retried under its id is stored once), and it catches up with what it missed.
        killed.start()
        await writer.append(refused, retry_for=20)
        for _ in range(3):
            await writer.append()
        last = (await js.stream_info(stream)).state.last_seq
        await caught_up(js, stream, killed, last)
        stopped.start()
        await caught_up(js, stream, stopped, last)

        log = await log_of(js, stream)
        assert [seq for seq, _ in log] == list(range(1, len(log) + 1))  # no gap
        ids = [event_id for _, event_id in log][1:]
        assert ids == writer.sent  # each event once, in the order sent
        assert len(set(ids)) == len(ids) == 15
        events, _ = await store.load("expert", "local", "expert", EXPERT)
        assert [e.event_id for e in events][1:] == writer.sent
    finally:
        await nc.close()


async def test_an_existing_stream_with_fewer_replicas_is_reported_and_left_alone(cluster):
    await cluster.meta_leader()
    nc = await cluster.connect()
    try:
        js = nc.jetstream()
        await EventStore(js).ensure_stream("expert")  # made before the setting said 3
        with structlog.testing.capture_logs() as logs:
            await EventStore(js, replicas=3).ensure_stream("expert")
        assert (await js.stream_info("EXPERT")).config.num_replicas == 1
        warnings = [e for e in logs if e["event"] == "stream.differs"]
        assert [w["differences"] for w in warnings] == [["num_replicas is 1, expected 3"]]
    finally:
        await nc.close()


async def test_a_replicated_object_store_serves_its_objects_with_a_server_killed(cluster):
    await cluster.meta_leader()
    nc = await cluster.connect()
    try:
        js = nc.jetstream(timeout=REFUSED_WITHIN_S)
        objects = Objects(js, None, replicas=3)  # plaintext: what is replicated is the point
        data = uuid.uuid4().bytes * 4096
        ref = await objects.put("documents", "local/one.pdf", data, tenant="local")
        assert (await js.stream_info("OBJ_documents")).config.num_replicas == 3
        cluster.node(await leader_of(js, "OBJ_documents")).kill()

        async def read():
            try:
                return await Objects(js, None).get(ref, tenant="local")
            except Exception:  # noqa: BLE001 - while the two others elect a leader
                return None

        assert await until(read, timeout=20, what="the object read back") == data
    finally:
        await nc.close()


async def test_every_node_refuses_a_connection_without_credentials(cluster):
    async def refused(url: str) -> bool:
        try:
            conn = await nats.connect(url, allow_reconnect=False, connect_timeout=2)
        except Exception as exc:  # noqa: BLE001 - what the refusal raises is the client's
            return "authorization" in str(exc).lower()
        await conn.close()
        return False

    assert [await refused(url) for url in cluster.urls] == [True, True, True]
