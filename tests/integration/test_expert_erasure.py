"""Deleting an expert deletes everything of it, on the real stack: its datasets (rows and
objects, exports too), its adapter versions (folders, stored files, exports, `active.json`),
its runs' work folders and checkpoints, and its benchmark runs. Each service reacts to
`ExpertDeleted` itself; a redelivery appends nothing twice and removes what came back; an
`ExpertDeleted` of an expert that had nothing costs nothing; the views rebuilt from the log
equal the live ones, and the rebuild writes no file of the erased expert again."""

from __future__ import annotations

import asyncio
import io
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.base import Accepted
from contracts.benchmark import BenchmarkList, ListBenchmarks
from contracts.dataset import DatasetList, ExportDataset, ExportReady, ListDatasets
from contracts.expert import DeleteExpert, ExpertDeleted
from contracts.registry import (
    EXPORTS,
    IMPORTS,
    AdapterExport,
    AdapterList,
    AuditTrail,
    ExportAdapter,
    GetAudit,
    ListAdapters,
)
from contracts.trainer import BUCKET, CHECKPOINTS, ListRuns, RunList
from runtime import headers as H
from runtime.codec import encode, event_type
from runtime.objects import ObjectCorrupt, ObjectMissing
from runtime.reactor import Progress, Reactor
from runtime.rpc import DomainError, request
from services.benchmark.reactors.expert_deleted import Cascade as BenchCascade
from services.dataset.erasing import OnExpertDeleted as DatasetCascade
from services.registry.reactors.expert_deleted import Cascade as RegistryCascade
from services.registry.reactors.version_changes import Mirroring
from services.trainer.local.workdir import WorkDir
from services.trainer.reactors.expert_deleted import Cascade as TrainerCascade
from tests.support import benchmarks, training
from tests.support.flows import create_expert
from tests.support.log import log_store
from tests.support.objects import sealed_objects
from tests.support.versions import activate, deployed, listed
from tests.support.views import snapshot

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

BUCKETS = ("documents", "derived", "datasets", "checkpoints", BUCKET, IMPORTS, EXPORTS)
NAMED_ONLY = ("documents", "derived")  # named by tenant and expert: the name says it all
NOT_OURS = ("nats", "pg")  # the event log and the database keep their history by design
GOING_BENCHMARKS = text(
    "SELECT DISTINCT expert_id FROM benchmark.runs WHERE status IN ('queued', 'running')"
)
CONTENT_LIMIT = 8 << 20  # files and objects read whole to look for an id, at most


async def nothing(*_) -> None:
    return None


PROGRESS: Progress = nothing


async def until(check, timeout: float = 120.0, what: str = "it"):
    """Poll `check` (async, returns what is still wrong) until it returns nothing."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        wrong = await check()
        if not wrong:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{what}: {wrong}"
        await asyncio.sleep(0.2)


async def plaintext(objects, bucket: str, name: str) -> bytes:
    """An object's content as its owner reads it (objects are sealed; a tenant's are named
    `<tenant>/...`); nothing when it no longer opens (gone, or its owner forgotten)."""
    sink = io.BytesIO()
    try:
        await objects.read_into(bucket, name, sink, tenant=name.split("/", 1)[0])
    except (ObjectMissing, ObjectCorrupt):
        return b""
    return sink.getvalue()


class Expert:
    """An expert with one of everything: a dataset (and an export of it), a trained adapter
    (active, exported), a finished run that left its work folder and a checkpoint behind, and
    a benchmark run."""

    def __init__(self, nc, home: Path) -> None:
        self.nc, self.home, self.ids = nc, home, {}

    async def make(self) -> Expert:
        nc = self.nc
        expert = await create_expert(nc)
        dataset = await training.dataset(nc, expert)
        await request(nc, "qry.dataset.export", ExportDataset(dataset_id=dataset), ExportReady)
        run = (await training.start(nc, expert, dataset)).run_id
        view = await training.finished(nc, run)
        assert view.status == "succeeded", view.error
        adapter = view.adapter_id
        await until(lambda: self._not_listed(adapter, expert), what="the registration")
        await request(nc, "qry.registry.export", ExportAdapter(adapter_id=adapter), AdapterExport)
        self.ids = {"expert": expert, "dataset": dataset, "run": run, "adapter": adapter}
        # what a run that ended with no worker following it leaves: its folder, a checkpoint
        await self.leave_run_files(run)
        bench = await benchmarks.start(nc, expert, adapter_id=adapter)
        assert (await benchmarks.finished(nc, bench)).status == "succeeded"
        self.ids["bench"] = bench
        return self

    async def _not_listed(self, adapter: str, expert: str) -> list[str]:
        listed_ids = [a.id for a in (await listed(self.nc, expert)).adapters]
        return [] if adapter in listed_ids else [f"{adapter} not in {listed_ids}"]

    async def leave_run_files(self, run: str) -> None:
        work = WorkDir(self.home, "local", run)
        (work.checkpoints / "checkpoint-2").mkdir(parents=True, exist_ok=True)
        (work.checkpoints / "checkpoint-2" / "trainer_state.json").write_text(f'{{"run": "{run}"}}')
        tar = WorkDir.pack(work.checkpoints / "checkpoint-2")
        await sealed_objects(self.nc).put(
            CHECKPOINTS, f"local/{run}/checkpoint-2.tar", tar, tenant="local"
        )

    @property
    def expert(self) -> str:
        return self.ids["expert"]

    async def leftovers(self) -> list[str]:
        """Everything of the expert still found: files under SIMTUNE_HOME (outside the log
        and the database) and objects whose path or content names one of its ids, and rows
        its services still list."""
        found = await asyncio.to_thread(self.files_left)
        found += await self.objects_left()
        found += await self.listed_left()
        return found

    def files_left(self) -> list[str]:
        """Files naming the expert, walked while the session's other services go on adding
        and removing their own (a folder or file gone mid-walk is simply not there)."""
        needles = [i.encode() for i in self.ids.values()]
        found = []
        for folder, _, files in os.walk(self.home):  # os.walk skips what vanished
            for file in files:
                path = Path(folder) / file
                relative = path.relative_to(self.home)
                if relative.parts[0] in NOT_OURS:
                    continue
                if any(i in str(relative) for i in self.ids.values()):
                    found.append(f"file {relative}")
                    continue
                try:
                    if path.stat().st_size <= CONTENT_LIMIT and any(
                        n in path.read_bytes() for n in needles
                    ):
                        found.append(f"file {relative} (content)")
                except FileNotFoundError:
                    continue
        return found

    async def objects_left(self) -> list[str]:
        objects, found = sealed_objects(self.nc), []
        needles = [i.encode() for i in self.ids.values()]
        for bucket in BUCKETS:
            store = await objects.bucket(bucket)
            for s in await objects.list(bucket):
                if any(i in s.name for i in self.ids.values()):
                    found.append(f"object {bucket}/{s.name}")
                    continue
                if bucket in NAMED_ONLY:
                    continue
                info = await store.get_info(s.name)
                if (info.size or 0) <= CONTENT_LIMIT:
                    data = await plaintext(objects, bucket, s.name)
                    if any(n in data for n in needles):
                        found.append(f"object {bucket}/{s.name} (content)")
        return found

    async def listed_left(self) -> list[str]:
        nc, expert, found = self.nc, self.expert, []
        asks = [
            ("qry.dataset.list", ListDatasets(expert_id=expert), DatasetList, "datasets"),
            ("qry.registry.adapters", ListAdapters(expert_id=expert), AdapterList, "adapters"),
            ("qry.registry.audit", GetAudit(expert_id=expert), AuditTrail, "entries"),
            ("qry.benchmark.runs", ListBenchmarks(expert_id=expert), BenchmarkList, "runs"),
        ]
        for subject, query, reply, field in asks:
            try:
                items = getattr(await request(nc, subject, query, reply), field)
            except DomainError as exc:
                assert exc.code == "not_found", exc
                continue
            if items:
                found.append(f"{subject} lists {len(items)}")
        every_run = (await request(nc, "qry.trainer.runs", ListRuns(limit=200), RunList)).runs
        found += [f"run {r.id} still listed" for r in every_run if r.expert_id == expert]
        return found


async def delete_expert(nc, expert_id: str) -> None:
    await request(nc, "cmd.expert.delete", DeleteExpert(expert_id=expert_id), Accepted)


async def deletion_of(nc, expert_id: str):
    """The `ExpertDeleted` on the log, as a reactor receives it."""
    events, _ = await log_store(nc).load("expert", "local", "expert", expert_id)
    return next(r for r in events if isinstance(r.event, ExpertDeleted))


async def events_of(nc, context: str, aggregate: str, key: str) -> list[str]:
    events, _ = await log_store(nc).load(context, "local", aggregate, key)
    return [type(r.event).__name__ for r in events]


@pytest.fixture(scope="module")
async def erased(nc, stack, services):
    """An expert with everything, deleted, once nothing of it is left."""
    made = await Expert(nc, stack.settings.home).make()
    await deployed(stack, await activate(nc, made.expert, made.ids["adapter"]))
    assert await made.leftovers(), "the expert left nothing to delete: the test proves nothing"
    await delete_expert(nc, made.expert)
    await until(made.leftovers, what="still there after the expert was deleted")
    return made


async def test_deleting_an_expert_leaves_nothing_of_it(erased):
    assert await erased.leftovers() == []


async def test_each_service_records_the_erasure_once(nc, erased):
    expert = erased.expert
    assert (await events_of(nc, "dataset", "line", expert)).count("DatasetsErased") == 1
    assert (await events_of(nc, "registry", "versions", expert)).count("VersionsErased") == 1
    assert (await events_of(nc, "benchmark", "bench", expert)).count("BenchErased") == 1
    assert (await events_of(nc, "trainer", "line", expert)).count("RunsErased") == 1


async def test_a_redelivered_deletion_appends_nothing_and_removes_what_came_back(nc, stack, erased):
    expert, ids, hosts = erased.expert, erased.ids, stack.hosts
    before = {
        (c, a): await events_of(nc, c, a, expert)
        for c, a in (("dataset", "line"), ("registry", "versions"), ("benchmark", "bench"))
    }
    # what a late writer could have put back after the first delivery
    objects = sealed_objects(nc)
    await objects.put("datasets", f"local/{expert}/late.examples.jsonl", b"{}\n", tenant="local")
    await objects.put(BUCKET, f"local/{ids['adapter']}/adapter_config.json", b"{}", tenant="local")
    await objects.put(CHECKPOINTS, f"local/{ids['run']}/checkpoint-9.tar", b"late", tenant="local")
    folder = stack.settings.home / "lora-adapters" / ids["adapter"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text("{}")
    assert await erased.leftovers()

    rec = await deletion_of(nc, expert)
    await DatasetCascade(hosts["dataset"]).react(rec, PROGRESS)
    await RegistryCascade(hosts["registry"]).on_expert(rec, PROGRESS)
    await BenchCascade(hosts["benchmark"]).on_expert(rec, PROGRESS)
    await TrainerCascade(hosts["trainer"]).on_expert(rec, PROGRESS)
    erasure = await last_of(nc, "registry", "versions", expert)
    await Mirroring(hosts["registry"]).on_registry(erasure, PROGRESS)

    assert await erased.leftovers() == []
    for (context, aggregate), events in before.items():
        assert await events_of(nc, context, aggregate, expert) == events


async def last_of(nc, context: str, aggregate: str, key: str):
    events, _ = await log_store(nc).load(context, "local", aggregate, key)
    return events[-1]


async def test_deleting_an_expert_that_had_nothing_costs_nothing(nc, stack, erased):
    """An ExpertDeleted with nothing to erase (no dataset, version or run) is handled like
    any other; the reactors park nothing and go on with the next deletion."""
    cascades = ("dataset", "registry", "benchmark", "trainer")
    parked = {name: await parked_in_cascade(stack, name) for name in cascades}
    empty = await create_expert(nc)
    await delete_expert(nc, empty)

    async def not_erased() -> list[str]:
        left = []
        for context, aggregate, kind in (
            ("dataset", "line", "DatasetsErased"),
            ("registry", "versions", "VersionsErased"),
            ("benchmark", "bench", "BenchErased"),
        ):
            if kind not in await events_of(nc, context, aggregate, empty):
                left.append(kind)
        return left

    await until(not_erased, what="the deletion of an empty expert was not handled")
    for name in cascades:
        assert await parked_in_cascade(stack, name) == parked[name], name


async def parked_in_cascade(stack, service: str) -> int:
    """What the service's cascade reactor has given up on so far (it must be running)."""
    health = await stack.hosts[service].health()
    [cascade] = [c for c in health.components if c.name == f"{service}.cascade"]
    assert cascade.state == "running", cascade
    return cascade.parked


async def test_views_rebuilt_after_the_erasure_equal_the_live_ones(nc, stack, erased):
    await training.end_all_runs(nc)  # nothing moves while a view is compared with its rebuild
    async with stack.hosts["benchmark"].engine.connect() as conn:
        going = await conn.scalars(GOING_BENCHMARKS)
        await benchmarks.end_all_benchmarks(nc, list(going))
    for name in ("dataset", "registry", "benchmark", "trainer"):
        host = stack.hosts[name]
        await host.wait_caught_up()
        live = await snapshot(host)
        await host.rebuild()
        assert await snapshot(host) == live, name
    assert await erased.leftovers() == []  # the registry's files are not written again


@pytest.fixture
async def deletions(nc):
    """A stream of its own carrying `ExpertDeleted` events, for the services' cascade
    handlers to follow with reactors of the test's, apart from the live EXPERT stream."""
    context = "del" + uuid.uuid4().hex[:12]
    js = nc.jetstream()
    await js.add_stream(name=context.upper(), subjects=[f"evt.{context}.>"])

    async def publish(expert_id: str, tenant: str = "local") -> None:
        event = ExpertDeleted(expert_id=expert_id)
        headers = {H.EVENT_ID: str(uuid.uuid4()), H.EVENT_TYPE: event_type(event),
                   H.TENANT: tenant}  # fmt: skip
        await js.publish(f"evt.{context}.local.expert.{expert_id}", encode(event), headers=headers)

    yield context.upper(), publish
    await js.delete_stream(context.upper())


async def test_a_deletion_that_cannot_be_carried_out_costs_only_itself(nc, stack, deletions):
    """A poison `ExpertDeleted` (a tenant no subject may name) fails in every cascade, is
    given up after its attempts and parked; the deletion behind it is carried out at once."""
    stream, publish = deletions
    hosts = stack.hosts
    handlers = {
        "dataset": DatasetCascade(hosts["dataset"]).react,
        "registry": RegistryCascade(hosts["registry"]).on_expert,
        "benchmark": BenchCascade(hosts["benchmark"]).on_expert,
    }
    reactors = [
        Reactor(nc, f"test.{stream}.{name}", stream, handler, max_deliver=2)
        for name, handler in handlers.items()
    ]
    for reactor in reactors:
        await reactor.start()
    try:
        expert = await create_expert(nc)
        await training.dataset(nc, expert)
        await publish("poisoned", tenant="no~tenant")
        await publish(expert)

        async def not_erased() -> list[str]:
            left = [
                kind
                for context, aggregate, kind in (
                    ("dataset", "line", "DatasetsErased"),
                    ("registry", "versions", "VersionsErased"),
                    ("benchmark", "bench", "BenchErased"),
                )
                if kind not in await events_of(nc, context, aggregate, expert)
            ]
            datasets = (await request(nc, "qry.dataset.list", ListDatasets(expert_id=expert),
                                      DatasetList)).datasets  # fmt: skip
            left += [f"dataset {d.id}" for d in datasets]
            left += [s.name for s in await sealed_objects(nc).list("datasets", f"local/{expert}/")]
            return left

        await until(not_erased, timeout=30.0, what="the deletion behind the poison")

        async def not_parked() -> list[str]:
            return [r.name for r in reactors if r.parked != 1]

        await until(not_parked, timeout=60.0, what="the poison was not given up")
        assert all(r.health()["state"] == "running" for r in reactors)
    finally:
        for reactor in reactors:
            await reactor.stop()
