"""An export whose accounts process is killed (SIGKILL, no goodbye) midway is finished by the
next process, once: the services run as real processes against their own NATS and Postgres.

The benchmark service is paused (SIGSTOP) so the export is held at its benchmarks step,
certainly mid-way, when the accounts process is killed; resumed, the restarted accounts
service takes the request again from the work queue and the job ends with one
`ExportFinished`, its archive whole and its staging folder gone."""

from __future__ import annotations

import io
import signal
from collections import Counter
from pathlib import Path

import pytest

from contracts.accounts import (
    CONTEXT,
    EXPORT_AGGREGATE,
    EXPORTS_BUCKET,
    CreateUser,
    ExportMyData,
    ExportProgressed,
    check_archive,
)
from contracts.base import GetHealth
from contracts.expert import CreateExpert, Profile
from runtime.eventstore import EventStore
from runtime.rpc import ask
from tests.support.objects import sealed_objects
from tests.support.processes import own_processes, wait_for_service
from tests.support.waiting import until

pytestmark = pytest.mark.integration

SERVICES = ("accounts", "expert", "ingest", "dataset", "trainer", "registry", "benchmark")


@pytest.fixture
async def crashable():
    settings = {"FINETUNE_SCHEDULE": "off"}
    async with own_processes("simtune-export-crash-", settings) as (procs, nc, servers):
        try:
            yield procs, nc, Path(servers["SIMTUNE_HOME"])
        finally:  # a stopped process takes no SIGTERM: resume it so it can be stopped
            bench = procs.procs.get("benchmark")
            if bench is not None:
                bench.send_signal(signal.SIGCONT)


@pytest.mark.timeout(420)
async def test_an_export_killed_midway_is_finished_once_by_the_next_process(crashable):
    procs, nc, home = crashable
    for context in SERVICES:
        procs.start(context)
    for context in SERVICES:
        await wait_for_service(nc, context)
    owner = await ask(nc, CreateUser(email="owner@crash.test", role="owner"))
    who = await ask(nc, CreateUser(email="mover@crash.test"))
    assert owner.tenant == "local"
    t = who.tenant
    await ask(nc, CreateExpert(tenant=t, profile=Profile(name="Crash expert")))
    store = EventStore(nc.jetstream())

    async def idle() -> bool:  # paused between two pieces of work, not in one
        health = await ask(nc, GetHealth(), context="benchmark")
        return all(c.state == "running" and not c.lag for c in health.components)

    await until(idle, timeout=120, what="the benchmark service to catch up")
    procs.procs["benchmark"].send_signal(signal.SIGSTOP)  # the export waits at its benchmarks
    job = await ask(nc, ExportMyData(tenant=t, user_id=who.user_id))

    async def progressed() -> Counter:
        events, _ = await store.load(CONTEXT, t, EXPORT_AGGREGATE, job.id)
        return Counter(type(rec.event).__name__ for rec in events), events

    async def held() -> bool:
        counts, events = await progressed()
        assert not counts["ExportFailed"], events[-1].event  # why, should it end before
        stages = [rec.event.stage for rec in events if isinstance(rec.event, ExportProgressed)]
        return any("the adapters" in stage for stage in stages)

    try:  # 8 s alone; in a fresh-clone run beside another worker, never within 180 s
        await until(held, timeout=180, what="the export to reach the benchmarks step")
    except AssertionError as exc:
        _, events = await progressed()
        logs = "\n".join(f"-- {c}\n{procs.tail(c)}" for c in ("accounts", "registry", "dataset"))
        raise AssertionError(f"{exc}; on the log: {[e.event for e in events]}\n{logs}") from exc
    procs.kill("accounts")  # mid-export
    assert (await progressed())[0]["ExportFinished"] == 0
    procs.procs["benchmark"].send_signal(signal.SIGCONT)
    procs.start("accounts")
    await wait_for_service(nc, "accounts")

    async def ended():
        counts, _ = await progressed()
        return counts if counts["ExportFinished"] or counts["ExportFailed"] else None

    counts = await until(ended, timeout=180, what="the export to end")
    assert counts["ExportFinished"] == 1 and counts["ExportFailed"] == 0
    assert counts["ExportRequested"] == 1
    _, events = await progressed()
    finished = events[-1].event
    data = await sealed_objects(nc).get(finished.archive, tenant=t)
    manifest = check_archive(io.BytesIO(data))
    assert manifest.counts["experts"] == 1
    assert finished.archive.bucket == EXPORTS_BUCKET
    assert not (home / "accounts" / "data-jobs" / f"export-{job.id}").exists()
