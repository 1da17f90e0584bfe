"""Adapter versions through the registry service, each figure beside a raw baseline measured
in the same run:

* **Listing** an expert's versions (`qry.registry.adapters`, a NATS round trip) with 100 and
  with 1,000 versions, 50 calls each, beside the service's own SELECT
  (`services/registry/views.LIST`) run straight on Postgres through SQLAlchemy, the two
  alternating. The versions are hosted-style ones (`files=[]`, a provider model, a training
  config and metrics as a trained version has) appended as `AdapterRegistered` events with
  the runtime's EventStore (registering 1,000 through imports would take minutes); the list
  is timed once the projection and the registry's file reactor have caught up. A split of
  the 1,000-version reply inside this process says where the time goes.
* **Activation** to the first answer with the new version: two random LoRAs on the tiny
  Llama (tests/support/tiny_llm.py, the local backend's model here) imported as versions;
  from `cmd.registry.activate` until a `cmd.expert.ask` (closed, greedy, 8 tokens) answers
  with the new adapter id (asked again while it does not), alternating the two versions.
  Baseline: the same ask with that version already active. With `SIMTUNE_BENCH_SMOLLM2=1`
  the same is measured on the bundled SmolLM2-135M as well.
* **Export and import** of a realistic adapter (a synthetic PEFT folder: random float32
  LoRA A/B of rank 16 on q/k/v/o of 30 layers of hidden size 576, SmolLM2-135M's shapes,
  ~7.4 MB of safetensors): export = `qry.registry.export` plus reading the archive back from
  the `exports` bucket; import = putting the `.tar.gz` in the `adapter-imports` bucket plus
  `cmd.registry.import` (a fresh expert each time, so none is a duplicate). Baselines:
  `tarfile` gzip pack of the same files to a temporary file, and extract of the same
  archive, alternating. MB/s = the adapter's file bytes over the seconds.

`python -m benchmarks registry`.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.common import (
    ROOT,
    begin,
    embedded_stack,
    print_table,
    record,
    timed_pair,
)
from contracts.answers import AnswerReply, Ask
from contracts.expert import CreateExpert, Profile
from contracts.registry import (
    CONTEXT,
    EXPORTS,
    IMPORTS,
    STREAM,
    VERSIONS,
    ActivateAdapter,
    AdapterActivated,
    AdapterImported,
    AdapterList,
    AdapterRegistered,
    ExportAdapter,
    ImportAdapter,
    ListAdapters,
)
from contracts.trainer import RunMetrics, TrainConfig
from runtime.codec import decode, encode
from runtime.db import make_engine
from runtime.eventstore import EventStore
from runtime.models import BUNDLED_CACHE
from runtime.object_keys import RemoteObjectKeys
from runtime.objects import Objects
from runtime.rpc import ask
from runtime.settings import load_settings
from services.registry import views
from services.registry.aggregates import EXPERT_VERSIONS
from tests.support.adapters import lora_folder, tar_gz
from tests.support.inprocess import start_service

SIZES = (100, 1000)
LIST_CALLS = 50
WARMUP = 5
ACTIVATIONS = 6  # alternating the two versions
TRANSFERS = 5
MB = 1_000_000
FILES_REACTOR = "react-registry-files"  # the registry's file reactor (manifests, active.json)
QUESTION = "What is the rule?"


async def new_expert(nc, name: str) -> str:
    profile = Profile(name=name)
    return (await ask(nc, CreateExpert(profile=profile))).id


# ---- listing -------------------------------------------------------------------------------


def hosted_version(expert_id: str, n: int) -> AdapterRegistered:
    """A version as a hosted fine-tune registers it: no files, the provider's model."""
    run = uuid.uuid4().hex[:16]
    return AdapterRegistered(
        adapter_id=uuid.uuid4().hex[:16],
        expert_id=expert_id,
        source="trained",
        base_model="gpt-4o-mini-2024-07-18",
        backend="openai",
        provider_model=f"ft:gpt-4o-mini-2024-07-18:acme::{run[:8]}",
        run_id=run,
        dataset_id=uuid.uuid4().hex[:16],
        config=TrainConfig(max_steps=200, backend="openai"),
        metrics=RunMetrics(train_loss=1.2 - n * 1e-4, val_loss=1.3, steps=200, seconds=640.0),
        traces_used=500 + n,
        created_at=f"2026-11-{1 + n % 28:02d}T12:00:00+00:00",
        tags=["stable"] if n % 50 == 0 else [],
    )


async def register_hosted(store: EventStore, expert_id: str, count: int) -> tuple[int, list[str]]:
    """`count` versions appended to the expert's versions, one after another; the last
    seq and their ids."""
    seq, ids = 0, []
    for n in range(count):
        event = hosted_version(expert_id, n)
        seq = await store.append(CONTEXT, "local", VERSIONS, expert_id, event, expected_seq=seq)
        ids.append(event.adapter_id)
    return seq, ids


async def reactor_drained(js, timeout: float = 1800.0) -> float:
    """Seconds until the registry's file reactor has handled every event of the log."""
    started = time.perf_counter()
    while True:
        info = await js.consumer_info(STREAM, FILES_REACTOR)
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"the file reactor still has {info.num_pending} events to go")
        await asyncio.sleep(0.25)


async def list_figures(nc, stack, registry) -> dict:
    store = EventStore(nc.jetstream())
    experts = {size: await new_expert(nc, f"list-{size}") for size in SIZES}
    appended = time.perf_counter()
    last, ids = 0, {}
    for size, expert_id in experts.items():
        last, ids[size] = await register_hosted(store, expert_id, size)
    append_s = time.perf_counter() - appended
    await registry.caught_up(STREAM, last, timeout=600.0)
    projected_s = time.perf_counter() - appended
    await reactor_drained(nc.jetstream())
    drained_s = time.perf_counter() - appended

    engine = make_engine(stack.database_url)
    figures: dict = {
        "appended_events": sum(SIZES),
        "append_s": append_s,
        "projection_caught_up_s": projected_s,
        "file_reactor_caught_up_s": drained_s,
    }
    try:
        for size, expert_id in experts.items():
            figures[size] = await list_latency(nc, engine, expert_id, size)
        for size, expert_id in experts.items():
            figures[size] |= await hosted_activations(nc, store, expert_id, ids[size][:2])
    finally:
        await engine.dispose()
    return figures


async def hosted_activations(nc, store: EventStore, expert_id: str, ids: list[str]) -> dict:
    """`cmd.registry.activate` of two of the expert's versions in turn, each once the file
    reactor is idle; beside it, loading the expert's versions from the log (what the
    command does before it decides) and one bare append."""
    commands, loads, appends = [], [], []
    for n in range(ACTIVATIONS):
        await reactor_drained(nc.jetstream())
        cmd = ActivateAdapter(expert_id=expert_id, adapter_id=ids[n % 2], by="benchmark")
        started = time.perf_counter()
        await ask(nc, cmd, timeout=60.0)
        commands.append(time.perf_counter() - started)
        await reactor_drained(nc.jetstream())
        started = time.perf_counter()
        await EXPERT_VERSIONS.load(store, "local", expert_id)
        loads.append(time.perf_counter() - started)
        event = AdapterActivated(expert_id=f"raw-{expert_id}", adapter=None, version=n + 1,
                                 by="benchmark")  # fmt: skip
        started = time.perf_counter()
        await store.append(CONTEXT, "local", VERSIONS, f"raw-{expert_id}", event,
                           expected_seq=None)  # fmt: skip
        appends.append(time.perf_counter() - started)
    await reactor_drained(nc.jetstream())
    return {
        "activate_command_p50_ms": statistics.median(commands) * 1000,
        "aggregate_load_p50_ms": statistics.median(loads) * 1000,
        "raw_append_p50_ms": statistics.median(appends) * 1000,
    }


async def list_latency(nc, engine, expert_id: str, size: int) -> dict:
    query = ListAdapters(expert_id=expert_id)
    params = {"t": "local", "e": expert_id}

    async def service() -> AdapterList:
        return await ask(nc, query)

    async def raw() -> list:
        async with engine.connect() as conn:
            return (await conn.execute(views.LIST, params)).all()

    def check(got, side: str) -> None:
        count = len(got.adapters) if side == "service" else len(got)
        assert count == size, f"listed {count} versions, not {size}"

    figures = await timed_pair(service, raw, check, calls=LIST_CALLS, warmup=WARMUP)
    return figures | {"split": await list_split(engine, expert_id, params)}


async def list_split(engine, expert_id: str, params: dict) -> dict:
    """Where a list reply's time goes, step by step in this process (median of 20 each)."""
    sql, convert, encoding, decoding = [], [], [], []
    body = b""
    for _ in range(20):
        async with engine.connect() as conn:
            started = time.perf_counter()
            rows = (await conn.execute(views.LIST, params)).all()
            sql.append(time.perf_counter() - started)
        started = time.perf_counter()
        adapters = [views.to_view(row) for row in rows]
        convert.append(time.perf_counter() - started)
        reply = AdapterList(expert_id=expert_id, adapters=adapters, active_adapter_id=None,
                            version=0)  # fmt: skip
        started = time.perf_counter()
        body = encode(reply)
        encoding.append(time.perf_counter() - started)
        started = time.perf_counter()
        decode(body, AdapterList)
        decoding.append(time.perf_counter() - started)
    return {
        "sql_ms": statistics.median(sql) * 1000,
        "rows_to_views_ms": statistics.median(convert) * 1000,
        "encode_ms": statistics.median(encoding) * 1000,
        "decode_ms": statistics.median(decoding) * 1000,
        "reply_bytes": len(body),
    }


# ---- activation ----------------------------------------------------------------------------


async def timed_answer(nc, expert_id: str) -> tuple[AnswerReply, float]:
    question = Ask(expert_id=expert_id, question=QUESTION, mode="closed", max_tokens=8,
                   temperature=0.0)  # fmt: skip
    started = time.perf_counter()
    reply = await ask(nc, question, timeout=120.0)
    return reply, time.perf_counter() - started


async def import_folder(
    nc, expert_id: str, folder: Path, split: dict | None = None
) -> tuple[AdapterImported, float]:
    """A PEFT folder packed as another tool would, stored and imported; the seconds taken
    from the put to the reply (packing it is not counted). `split` gets the put's share."""
    data = tar_gz(folder)
    started = time.perf_counter()
    objects = Objects(nc.jetstream(), RemoteObjectKeys(nc))  # as the gateway stores an upload
    ref = await objects.put(IMPORTS, f"local/bench-{uuid.uuid4().hex}", data, tenant="local")
    if split is not None:
        split.setdefault("put_s", []).append(time.perf_counter() - started)
    cmd = ImportAdapter(
        expert_id=expert_id, archive=ref, filename=f"{folder.name}.tar.gz", by="benchmark"
    )
    imported = await ask(nc, cmd, timeout=300.0)
    return imported, time.perf_counter() - started


async def activation_figures(nc, base_model: Path, scratch: Path) -> dict:
    expert_id = await new_expert(nc, "activation")
    versions = []
    for seed in (1, 2):
        folder = lora_folder(base_model, scratch / f"lora-{seed}", seed=seed)
        versions.append((await import_folder(nc, expert_id, folder))[0].adapter_id)
    first, load_s = await timed_answer(nc, expert_id)  # loads the base model
    assert first.adapter_id is None
    runs = []
    for n in range(ACTIVATIONS):
        target = versions[n % 2]
        started = time.perf_counter()
        cmd = ActivateAdapter(expert_id=expert_id, adapter_id=target, by="benchmark")
        await ask(nc, cmd)
        command_s = time.perf_counter() - started
        asks = 0
        while True:
            reply, _ = await timed_answer(nc, expert_id)
            asks += 1
            if reply.adapter_id == target:
                break
            if time.perf_counter() - started > 60:
                raise RuntimeError(f"the expert never answered with {target}")
        total_s = time.perf_counter() - started
        again, baseline_s = await timed_answer(nc, expert_id)
        assert again.adapter_id == target and again.answer == reply.answer
        runs.append({"seconds": total_s, "command_s": command_s, "asks": asks,
                     "baseline_s": baseline_s, "first_of_version": n < 2})  # fmt: skip
    return summarize_activations(runs, load_s)


def summarize_activations(runs: list[dict], load_s: float) -> dict:
    def med(key: str, rows=runs) -> float:
        return statistics.median(r[key] for r in rows)

    return {
        "runs": runs,
        "first_ask_s": load_s,
        "activation_p50_s": med("seconds"),
        "activation_max_s": max(r["seconds"] for r in runs),
        "activation_first_of_version_s": [r["seconds"] for r in runs if r["first_of_version"]],
        "command_p50_s": med("command_s"),
        "baseline_p50_s": med("baseline_s"),
        "asks_max": max(r["asks"] for r in runs),
    }


def smollm2_folder(scratch: Path) -> Path:
    """The bundled SmolLM2-135M converted to safetensors, in a subprocess (as
    benchmarks/training.py does), into `scratch`."""
    script = (
        "import sys; from pathlib import Path; from runtime.models import model_source;"
        " print(model_source('smollm2', Path(sys.argv[1])))"
    )
    found = subprocess.run([sys.executable, "-c", script, str(scratch)], cwd=ROOT,
                           capture_output=True, text=True, check=True)  # fmt: skip
    return Path(found.stdout.strip().splitlines()[-1])


async def smollm2_activation(scratch: Path) -> dict:
    model_dir = smollm2_folder(scratch / "smollm2-home")
    async with embedded_stack() as stack:
        (stack.home / "models").mkdir(parents=True, exist_ok=True)
        (stack.home / "models" / BUNDLED_CACHE).symlink_to(model_dir, target_is_directory=True)
        settings = load_settings({"NATS_URL": stack.nats_url, "DATABASE_URL": stack.database_url,
                                  "SIMTUNE_HOME": str(stack.home),
                                  "SIMTUNE_LOG_LEVEL": "warning"})  # fmt: skip
        hosts = [await start_service(settings, c) for c in ("expert", "registry")]
        try:
            return await activation_figures(hosts[0].nc, model_dir, scratch / "smollm2-loras")
        finally:
            for host in reversed(hosts):
                await host.stop()


# ---- export and import ---------------------------------------------------------------------


def synthetic_adapter(folder: Path, base_model: Path, *, layers: int = 30, hidden: int = 576,
                      kv: int = 192, rank: int = 16) -> int:  # fmt: skip
    """A PEFT LoRA folder of SmolLM2-135M's shapes with random weights; its bytes."""
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    outs = {"q_proj": hidden, "k_proj": kv, "v_proj": kv, "o_proj": hidden}
    tensors = {}
    for layer in range(layers):
        for module, out in outs.items():
            key = f"base_model.model.model.layers.{layer}.self_attn.{module}"
            tensors[f"{key}.lora_A.weight"] = torch.randn(rank, hidden) * 0.02
            tensors[f"{key}.lora_B.weight"] = torch.randn(out, rank) * 0.02
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, folder / "adapter_model.safetensors", metadata={"format": "pt"})
    config = {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": str(base_model),
        "r": rank, "lora_alpha": 2 * rank, "lora_dropout": 0.05, "bias": "none",
        "target_modules": sorted(outs), "inference_mode": True, "fan_in_fan_out": False,
    }  # fmt: skip
    (folder / "adapter_config.json").write_text(json.dumps(config, indent=2))
    return sum(p.stat().st_size for p in folder.iterdir())


def raw_pack(folder: Path) -> None:
    with tempfile.TemporaryFile() as sink, tarfile.open(fileobj=sink, mode="w:gz") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)


def raw_extract(data: bytes, scratch: Path) -> None:
    target = Path(tempfile.mkdtemp(dir=scratch))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(target, filter="data")
    shutil.rmtree(target)


async def transfer_figures(nc, base_model: Path, scratch: Path) -> dict:
    folder = scratch / "lora-r16-smollm2-shapes"
    size = synthetic_adapter(folder, base_model)
    archive = tar_gz(folder)
    objects = Objects(nc.jetstream(), RemoteObjectKeys(nc))
    imports, raw_extracts, exports, raw_packs = [], [], [], []
    split: dict[str, list[float]] = {}
    adapter_id = None
    for n in range(TRANSFERS):
        expert_id = await new_expert(nc, f"transfer-{n}")
        for side in ("service", "raw") if n % 2 == 0 else ("raw", "service"):
            if side == "raw":
                started = time.perf_counter()
                await asyncio.to_thread(raw_extract, archive, scratch)
                raw_extracts.append(time.perf_counter() - started)
            else:
                imported, seconds = await import_folder(nc, expert_id, folder, split)
                assert imported.valid and not imported.duplicate
                adapter_id = adapter_id or imported.adapter_id
                imports.append(seconds)
        await reactor_drained(nc.jetstream())  # the files written: nothing left in the background
    exported = b""
    for n in range(TRANSFERS):
        for side in ("service", "raw") if n % 2 == 0 else ("raw", "service"):
            started = time.perf_counter()
            if side == "raw":
                await asyncio.to_thread(raw_pack, folder)
                raw_packs.append(time.perf_counter() - started)
            else:
                export = await ask(nc,
                                       ExportAdapter(adapter_id=adapter_id),
                                       timeout=300.0)  # fmt: skip
                exported = await objects.get(export.object, tenant="local")
                exports.append(time.perf_counter() - started)
                assert export.object.bucket == EXPORTS
    for _ in range(TRANSFERS):  # the object store alone, the same bytes
        started = time.perf_counter()
        ref = await objects.put(
            IMPORTS, f"local/bench-raw-{uuid.uuid4().hex}", archive, tenant="local"
        )
        split.setdefault("bare_put_s", []).append(time.perf_counter() - started)
        started = time.perf_counter()
        await objects.get(ref, tenant="local")
        split.setdefault("bare_get_s", []).append(time.perf_counter() - started)
        await objects.delete(ref.bucket, ref.name)
    return {
        "adapter_bytes": size,
        "archive_bytes": len(archive),
        "export_bytes": len(exported),
        "import_s": statistics.median(imports),
        "raw_extract_s": statistics.median(raw_extracts),
        "export_s": statistics.median(exports),
        "raw_pack_s": statistics.median(raw_packs),
        "import_mb_s": size / MB / statistics.median(imports),
        "raw_extract_mb_s": size / MB / statistics.median(raw_extracts),
        "export_mb_s": size / MB / statistics.median(exports),
        "raw_pack_mb_s": size / MB / statistics.median(raw_packs),
        "import_put_s": statistics.median(split["put_s"]),
        "object_put_s": statistics.median(split["bare_put_s"]),
        "object_get_s": statistics.median(split["bare_get_s"]),
    }


# ---- the run -------------------------------------------------------------------------------


async def run() -> None:
    begin()
    scratch = Path(tempfile.mkdtemp(prefix="simtune-bench-registry-"))
    try:
        from tests.support.tiny_llm import build_tiny_llm

        base_model = build_tiny_llm(scratch / "tiny-llm")
        async with embedded_stack() as stack:
            settings = load_settings({"NATS_URL": stack.nats_url,
                                      "DATABASE_URL": stack.database_url,
                                      "SIMTUNE_HOME": str(stack.home),
                                      "SIMTUNE_LOG_LEVEL": "warning",
                                      "SIMTUNE_BASE_MODEL": str(base_model)})  # fmt: skip
            hosts = {c: await start_service(settings, c) for c in ("expert", "registry")}
            try:
                nc = hosts["expert"].nc
                listing = await list_figures(nc, stack, hosts["registry"])
                activation = await activation_figures(nc, base_model, scratch)
                transfer = await transfer_figures(nc, base_model, scratch)
            finally:
                for host in reversed(list(hosts.values())):
                    await host.stop()
        smollm2 = None
        if os.environ.get("SIMTUNE_BENCH_SMOLLM2") == "1":
            smollm2 = await smollm2_activation(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(listing, activation, transfer, smollm2)


def report(listing: dict, activation: dict, transfer: dict, smollm2: dict | None) -> None:
    rows = []
    for size in SIZES:
        f = listing[size]
        rows.append(
            (
                f"service: qry.registry.adapters, {size:,} versions",
                f["service_p50_ms"],
                f["service_p95_ms"],
                round(f["service_p50_ms"] / f["raw_p50_ms"], 1),
            )
        )
        rows.append((f"raw: the same SELECT (SQLAlchemy), {size:,} versions", f["raw_p50_ms"],
                     f["raw_p95_ms"], 1.0))  # fmt: skip
    print(f"\nregistry: {sum(SIZES):,} hosted versions appended in {listing['append_s']:.1f} s;"
          f" projection caught up at {listing['projection_caught_up_s']:.1f} s, the file"
          f" reactor at {listing['file_reactor_caught_up_s']:.1f} s")  # fmt: skip
    print_table(f"listing versions ({LIST_CALLS} calls each, alternating)",
                ("run", "p50 ms", "p95 ms", "p50 ÷ raw"), rows)  # fmt: skip
    split = listing[SIZES[-1]]["split"]
    print_table(f"one list of {SIZES[-1]:,} versions, step by step in this process (median ms)",
                ("step", "ms"), [(k, v) for k, v in split.items()])  # fmt: skip

    rows = []
    for size in SIZES:
        f = listing[size]
        rows += [
            (f"service: cmd.registry.activate, {size:,} versions", f["activate_command_p50_ms"],
             round(f["activate_command_p50_ms"] / f["raw_append_p50_ms"], 1)),
            (f"  loading the expert's versions from the log, {size:,}",
             f["aggregate_load_p50_ms"], ""),
            ("  raw: one EventStore.append", f["raw_append_p50_ms"], 1.0),
        ]  # fmt: skip
    print_table(f"activating a hosted version ({ACTIVATIONS} each, median ms)",
                ("run", "ms", "÷ raw"), rows)  # fmt: skip

    def activation_rows(label: str, a: dict) -> list[tuple]:
        return [
            (f"{label}: activate → first answer with it (p50)", a["activation_p50_s"] * 1000,
             a["activation_max_s"] * 1000, round(a["activation_p50_s"] / a["baseline_p50_s"], 2)),
            (f"{label}: of which the activate command", a["command_p50_s"] * 1000, "", ""),
            (f"{label}: raw: the same ask, version already active", a["baseline_p50_s"] * 1000,
             "", 1.0),
        ]  # fmt: skip

    rows = activation_rows("tiny Llama", activation)
    if smollm2:
        rows += activation_rows("SmolLM2-135M", smollm2)
    print_table(f"activation ({ACTIVATIONS} activations alternating two versions; asks until"
                " the reply names the new version)", ("run", "p50 ms", "max ms", "÷ raw"),
                rows)  # fmt: skip
    print(f"  (first activation of each version, its adapter loaded then:"
          f" {', '.join(f'{s * 1000:.0f} ms' for s in activation['activation_first_of_version_s'])};"
          f" most asks needed: {activation['asks_max']})")  # fmt: skip
    t = transfer
    print_table(
        f"export and import ({t['adapter_bytes'] / MB:.2f} MB adapter, archive"
        f" {t['archive_bytes'] / MB:.2f} MB, median of {TRANSFERS})",
        ("run", "seconds", "MB/s", "÷ raw"),
        [
            ("service: qry.registry.export + read the archive", t["export_s"], t["export_mb_s"],
             round(t["export_mb_s"] / t["raw_pack_mb_s"], 2)),
            ("raw: tarfile gzip pack", t["raw_pack_s"], t["raw_pack_mb_s"], 1.0),
            ("service: put the archive + cmd.registry.import", t["import_s"], t["import_mb_s"],
             round(t["import_mb_s"] / t["raw_extract_mb_s"], 2)),
            ("raw: tarfile extract", t["raw_extract_s"], t["raw_extract_mb_s"], 1.0),
            ("  of the import: putting the archive in the bucket", t["import_put_s"], "", ""),
            ("  the object store alone: put of the archive", t["object_put_s"], "", ""),
            ("  the object store alone: get of the archive", t["object_get_s"], "", ""),
        ],
    )  # fmt: skip
    record("registry", {"list": {str(k): v for k, v in listing.items()},
                        "activation": activation, "smollm2_activation": smollm2,
                        "transfer": transfer})  # fmt: skip


if __name__ == "__main__":
    asyncio.run(run())
