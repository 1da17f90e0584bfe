"""Commands through the whole stack: HTTP → gateway → NATS → expert service → log →
projection → read-your-writes reply, beside raw appends in the same run.

Clients: CLIENTS concurrent httpx clients against a real uvicorn-served gateway, each doing
`POST /api/experts` then PATCHes of its own expert (1 create : 4 updates), COMMANDS in all.
Every reply is the projected expert (read-your-writes), as a user's client sees it.

Baseline: the same number of events appended with `EventStore.append` by CLIENTS concurrent
tasks (expected sequence, message id, headers): what the log alone can take on this machine.

Two shapes of the stack, same run: *one process* (gateway, expert and accounts services and
clients share one event loop, as the integration tests run them) and *deployed* (the gateway,
the expert service and the accounts service each in their own process, started as `make run`
starts them; the clients in the benchmark's process). Every request carries the owner's API
key, so each one also asks the accounts service who is calling (issue 20).

Where the time goes: the service-side split of one command, measured on the same stack with
the expert service's own pieces timed one by one (load the aggregate, append, wait for the
projection), without HTTP.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from benchmarks.common import (
    Timer,
    begin,
    embedded_stack,
    percentile,
    print_table,
    record,
    served_gateway,
)
from contracts.base import DomainError, ErrorCode
from contracts.expert import ExpertCreated, ExpertUpdated, Profile, ProfilePatch
from runtime.eventstore import EventStore
from tests.support.accounts import Person, owner
from tests.support.inprocess import start_service
from tests.support.servers import admin_connect
from tests.support.waiting import until

CLIENTS, COMMANDS, WARMUP, UPDATES_PER_CREATE = 8, 4_000, 200, 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def client_loop(api: httpx.AsyncClient, count: int, latencies: list[float]) -> None:
    expert_id = None
    for n in range(count):
        with Timer() as t:
            if n % (UPDATES_PER_CREATE + 1) == 0:
                reply = await api.post("/api/experts", json={"name": f"Bench {uuid.uuid4().hex}"})
                expert_id = reply.json()["id"]
            else:
                reply = await api.patch(f"/api/experts/{expert_id}", json={"domain": f"d{n}"})
        assert reply.status_code < 300, reply.text
        latencies.append(t.s * 1000)


async def through_api(url: str, headers: dict, total: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30.0, limits=limits) as api:
        per_client = total // CLIENTS
        with Timer() as t:
            await asyncio.gather(*(client_loop(api, per_client, latencies) for _ in range(CLIENTS)))
    return t.s, latencies


@contextmanager
def deployed(stack, port: int) -> Iterator[str]:
    """The gateway, the expert service and the accounts service (every request has a person
    behind it) as their own processes; yields the gateway's URL."""
    env = {
        **os.environ,
        "NATS_URL": stack.nats_url,
        "DATABASE_URL": stack.database_url,
        "SIMTUNE_HOME": str(stack.home),
        "SIMTUNE_PORT": str(port),
        "SIMTUNE_LOG_LEVEL": "warning",
    }
    children = [
        subprocess.Popen([sys.executable, "-m", module], env=env)
        for module in ("services.expert", "services.accounts", "gateway")
    ]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=30)


async def owner_over(nats_url: str, home: Path, timeout: float = 60.0) -> Person:
    """The owner, made over NATS as `simtune admin users create` makes one, once the deployed
    accounts service answers."""
    conn = await admin_connect(nats_url, home)

    async def made() -> Person | None:
        try:
            return await owner(conn)
        except DomainError as exc:
            if exc.code != ErrorCode.UNAVAILABLE:
                raise
            return None

    try:
        return await until(made, timeout, "the deployed accounts service answering")
    finally:
        await conn.close()


async def until_serving(url: str, headers: dict, timeout: float = 60.0) -> None:
    async with httpx.AsyncClient(base_url=url, headers=headers) as api:
        for _ in range(int(timeout / 0.2)):
            try:
                if (await api.get("/api/experts")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the deployed gateway at {url} did not serve in {timeout:.0f} s")


async def raw_appends(store: EventStore, total: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def one_client() -> None:
        expert_id, last = None, 0
        for n in range(total // CLIENTS):
            with Timer() as t:
                if n % (UPDATES_PER_CREATE + 1) == 0:
                    expert_id = uuid.uuid4().hex[:12]
                    event = ExpertCreated(expert_id=expert_id, profile=Profile(name="Bench"))
                    last = await store.append(
                        "expert", "local", "expert", expert_id, event, expected_seq=0
                    )
                else:
                    event = ExpertUpdated(expert_id=expert_id, changes=ProfilePatch(domain=f"{n}"))
                    last = await store.append(
                        "expert", "local", "expert", expert_id, event, expected_seq=last
                    )
            latencies.append(t.s * 1000)

    with Timer() as t:
        await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    return t.s, latencies


async def service_split(host, samples: int = 200) -> dict[str, float]:
    """Median ms of each step of an update inside the expert service, on an expert with
    as many events as the clients' experts have (1 created + 3 updated)."""
    from services.expert.aggregates import EXPERT

    store = host.store
    steps: dict[str, list[float]] = {"load aggregate": [], "append": [], "projection reached": []}
    for n in range(samples):
        expert_id = uuid.uuid4().hex[:12]
        created = ExpertCreated(expert_id=expert_id, profile=Profile(name="Split"))
        last = await store.append("expert", "local", "expert", expert_id, created, expected_seq=0)
        for m in range(UPDATES_PER_CREATE - 1):
            update = ExpertUpdated(expert_id=expert_id, changes=ProfilePatch(domain=f"{m}"))
            last = await store.append(
                "expert", "local", "expert", expert_id, update, expected_seq=last
            )
        await host.caught_up(host.stream, last)
        with Timer() as loaded:
            _, last = await EXPERT.load(store, "local", expert_id)
        update = ExpertUpdated(expert_id=expert_id, changes=ProfilePatch(domain=f"s{n}"))
        with Timer() as appended:
            seq = await store.append(
                "expert", "local", "expert", expert_id, update, expected_seq=last
            )
        with Timer() as projected:
            await host.caught_up(host.stream, seq)
        steps["load aggregate"].append(loaded.s * 1000)
        steps["append"].append(appended.s * 1000)
        steps["projection reached"].append(projected.s * 1000)
    return {name: percentile(values, 50) for name, values in steps.items()}


async def alternate(
    url: str, headers: dict, store: EventStore
) -> tuple[float, list[float], float, list[float]]:
    """API and raw appends in two halves each, alternating, so drift hits both sides alike."""
    await through_api(url, headers, WARMUP)
    await raw_appends(store, WARMUP)
    api_s = raw_s = 0.0
    api_ms: list[float] = []
    raw_ms: list[float] = []
    for _ in range(2):
        s, ms = await through_api(url, headers, COMMANDS // 2)
        api_s, api_ms = api_s + s, api_ms + ms
        s, ms = await raw_appends(store, COMMANDS // 2)
        raw_s, raw_ms = raw_s + s, raw_ms + ms
    return api_s, api_ms, raw_s, raw_ms


async def one_process(stack, store: EventStore) -> tuple[tuple, dict[str, float]]:
    settings = stack.settings()
    host = await start_service(settings, "expert")
    try:
        async with served_gateway(settings) as gateway:
            runs = await alternate(gateway.url, gateway.headers, store)
            split = await service_split(host)
    finally:
        await host.stop()
    return runs, split


async def two_processes(stack, store: EventStore) -> tuple:
    with deployed(stack, free_port()) as url:
        headers = (await owner_over(stack.nats_url, stack.home)).headers
        await until_serving(url, headers)
        return await alternate(url, headers, store)


def figures(runs: tuple) -> dict[str, float]:
    api_s, api_ms, raw_s, raw_ms = runs
    api_rate, raw_rate = len(api_ms) / api_s, len(raw_ms) / raw_s
    return {
        "commands": len(api_ms),
        "api_per_s": api_rate,
        "api_p50_ms": percentile(api_ms, 50),
        "api_p95_ms": percentile(api_ms, 95),
        "raw_per_s": raw_rate,
        "raw_p50_ms": percentile(raw_ms, 50),
        "raw_p95_ms": percentile(raw_ms, 95),
        "ratio": api_rate / raw_rate,
    }


async def run() -> None:
    begin()
    async with embedded_stack() as stack:
        nc = await admin_connect(stack.nats_url, stack.home)
        store = EventStore(nc.jetstream())
        try:
            together, split = await one_process(stack, store)
            apart = await two_processes(stack, store)
        finally:
            await nc.close()

    shapes = {"one process": figures(together), "deployed": figures(apart)}
    rows = []
    for shape, f in shapes.items():
        rows += [
            (
                f"{shape}: API commands, {CLIENTS} clients",
                f["api_p50_ms"],
                f["api_p95_ms"],
                f["api_per_s"],
            ),
            (
                f"{shape}: raw EventStore.append, {CLIENTS} tasks",
                f["raw_p50_ms"],
                f["raw_p95_ms"],
                f["raw_per_s"],
            ),
            (f"{shape}: ratio API/raw (commands/s)", "", "", round(f["ratio"], 3)),
        ]
    print_table("commands", ("run", "p50 ms", "p95 ms", "per s"), rows)
    print_table("one update inside the service (median ms)", ("step", "ms"), list(split.items()))
    record("commands", {"clients": CLIENTS, **shapes, "service_split_ms": split})
