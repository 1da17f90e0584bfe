"""The benchmark service, each figure beside a raw baseline measured in the same run:

* **Dashboard reads** for an expert with 1,000 finished runs: `qry.benchmark.summary` (the
  time series, the comparison table, the alerts) and `qry.benchmark.runs` with limit 1,000,
  30 calls each (3 warm-up), beside the service's own SELECT of that read (`views.summary`'s
  and `views.runs`'s) run straight on Postgres through SQLAlchemy, the two alternating. The
  runs are appended as `BenchmarkQueued` + `BenchmarkCompleted` events with the runtime's
  EventStore (3 built-in questions each, varied scores, three adapter ids and the base
  model) before the benchmark service starts, so its run worker finds them finished; the
  reads are timed once the `benchmark.runs` projection and the service's reactors have
  caught up. A split of one summary inside this process says where the time goes.
* **A quick run's wall time**: the default local model (`SIMTUNE_BASE_MODEL`, "smollm2",
  the bundled SmolLM2-135M) answering a quick built-in run of the base model
  (`cmd.benchmark.start`, adapter "base": 10 questions, greedy, `SIMTUNE_BENCH_MAX_TOKENS`
  tokens at most, 256 by default), from the command until the run reads `succeeded`; the
  model is loaded and the embedder warmed first (their times are printed apart). Baseline:
  the same 10 generations bare — the same model loaded with transformers in this process,
  each question's prompt built by the product's prompt builder for a closed-book answer
  (the expert's persona, the same chat template), `model.generate` greedy with the same
  token limit, wall times summed. The PRD asks a quick run to take under 20 minutes.

`python -m benchmarks bench_runs`.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
import uuid

from sqlalchemy import text

from benchmarks.common import begin, embedded_stack, print_table, record, timed_pair
from contracts.answers import Ask
from contracts.benchmark import (
    CONTEXT,
    RUN,
    STREAM,
    BenchmarkCompleted,
    BenchmarkQueued,
    BenchmarkResults,
    BenchSummary,
    GetBenchmark,
    GetResults,
    GetSummary,
    ListBenchmarks,
    QuestionResult,
    Resources,
    StartBenchmark,
)
from contracts.expert import CreateExpert, Profile
from contracts.knowledge import Embed
from contracts.registry import GetActiveAdapter
from runtime.codec import decode, encode
from runtime.db import make_engine
from runtime.eventstore import EventStore
from runtime.rpc import ask
from runtime.settings import load_settings
from services.benchmark import bank, scoring, views
from services.benchmark.aggregates import BENCHES
from tests.support.inprocess import start_service

TENANT = "local"
RUNS = 1000
CALLS = 30
WARMUP = 3
ADAPTERS = (None, "adapter-a1", "adapter-b2", "adapter-c3")  # None: the base model
REACTORS = ("react-benchmark-run", "react-benchmark-decide")
ENDED = ("succeeded", "failed", "cancelled")
RUN_TIMEOUT_S = 3600.0
PROFILE = Profile(name="Bench subject", domain="general knowledge")


async def new_expert(nc, profile: Profile) -> str:
    return (await ask(nc, CreateExpert(profile=profile))).id


def settings_for(stack):
    """The product's defaults on this stack; the model and the answer length may be chosen
    from the environment as for the product."""
    env = {"NATS_URL": stack.nats_url, "DATABASE_URL": stack.database_url,
           "SIMTUNE_HOME": str(stack.home), "SIMTUNE_LOG_LEVEL": "warning"}  # fmt: skip
    for name in ("SIMTUNE_BASE_MODEL", "SIMTUNE_BENCH_MAX_TOKENS"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return load_settings(env)


# ---- 1,000 finished runs -------------------------------------------------------------------


def finished_run(expert_id: str, n: int, rng: random.Random):
    """A quick run's two events: queued with 3 built-in questions, completed with scores."""
    questions = bank.pick(bank.builtin(), 3, seed=n)
    run_id = uuid.uuid4().hex[:16]
    adapter = ADAPTERS[n % len(ADAPTERS)]
    queued = BenchmarkQueued(run_id=run_id, expert_id=expert_id, suite="builtin", size="quick",
                             adapter_id=adapter, questions=questions,
                             trigger="schedule" if n % 3 else "api")  # fmt: skip
    level = {None: 0.35, "adapter-a1": 0.5, "adapter-b2": 0.6, "adapter-c3": 0.7}[adapter]
    results = [
        QuestionResult(
            question_id=q.id,
            domain=q.domain,
            answer=f"An answer of about {k + n} words.",
            score=min(1.0, max(0.0, rng.gauss(level, 0.2))),
            scorer="similarity+overlap",
            scorer_version=1,
            parts={"similarity": 0.7, "overlap": 0.4},
            response_ms=rng.uniform(2000, 15000),
            completion_tokens=rng.randint(20, 256),
            tokens_per_s=rng.uniform(12, 30),
            cut_off=rng.random() < 0.2,
        )  # fmt: skip
        for k, q in enumerate(questions)
    ]
    resources = Resources(cpu_percent=rng.uniform(90, 190), ram_mb=rng.uniform(1500, 2500))
    metrics = scoring.metrics(questions, results, resources)
    completed = BenchmarkCompleted(run_id=run_id, metrics=metrics,
                                   vs_previous_pct=rng.uniform(-10, 10),
                                   within_noise=rng.random() < 0.7)  # fmt: skip
    return run_id, queued, completed


async def seed_runs(store: EventStore, expert_id: str) -> int:
    """RUNS finished runs on the log; the last sequence."""
    rng, last = random.Random(7), 0
    for n in range(RUNS):
        run_id, queued, completed = finished_run(expert_id, n, rng)
        seq = await store.append(CONTEXT, TENANT, RUN, run_id, queued, expected_seq=0)
        last = await store.append(CONTEXT, TENANT, RUN, run_id, completed, expected_seq=seq)
    return last


async def reactors_drained(js, timeout: float = 1800.0) -> float:
    """Seconds until the benchmark service's reactors have handled every event."""
    started = time.perf_counter()
    while True:
        infos = [await js.consumer_info(STREAM, name) for name in REACTORS]
        if all(i.num_pending == 0 and i.num_ack_pending == 0 for i in infos):
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"the benchmark reactors still have work: {infos}")
        await asyncio.sleep(0.25)


async def read_figures(nc, engine, store: EventStore, expert_id: str) -> dict:
    params = {"t": TENANT, "e": expert_id}
    summary_sql = text(
        "SELECT * FROM benchmark.runs WHERE tenant = :t AND expert_id = :e"
        " AND status = 'succeeded' ORDER BY finished_at"
    )
    runs_sql = text(
        "SELECT * FROM benchmark.runs WHERE tenant = :t AND expert_id = :e"
        " ORDER BY queued_at DESC LIMIT :limit"
    )

    async def raw(sql, extra=None):
        async with engine.connect() as conn:
            return (await conn.execute(sql, {**params, **(extra or {})})).all()

    def count(got, side, attr) -> None:
        n = len(getattr(got, attr)) if side == "service" else len(got)
        assert n == RUNS, f"{side}: {n} runs, not {RUNS}"

    summary = await timed_pair(
        lambda: ask(nc, GetSummary(expert_id=expert_id), timeout=60.0),
        lambda: raw(summary_sql),
        lambda got, side: count(got, side, "points"),
        calls=CALLS,
        warmup=WARMUP,
    )
    listing = await timed_pair(
        lambda: ask(nc, ListBenchmarks(expert_id=expert_id, limit=RUNS), timeout=60.0),
        lambda: raw(runs_sql, {"limit": RUNS}),
        lambda got, side: count(got, side, "runs"),
        calls=CALLS,
        warmup=WARMUP,
    )
    summary["split"] = await summary_split(nc, engine, store, expert_id, summary_sql, params)
    listing["reply_bytes"] = len(
        encode(await ask(nc,
                             ListBenchmarks(expert_id=expert_id, limit=RUNS)))
    )  # fmt: skip
    return {"summary": summary, "runs": listing}


async def summary_split(nc, engine, store, expert_id: str, sql, params: dict) -> dict:
    """Where a summary's time goes, step by step in this process (median of 20 each)."""
    steps: dict[str, list[float]] = {}

    def note(step: str, started: float) -> float:
        now = time.perf_counter()
        steps.setdefault(step, []).append(now - started)
        return now

    body = b""
    query = GetSummary(expert_id=expert_id)
    for _ in range(20):
        started = time.perf_counter()
        bench, _ = await BENCHES.load(store, TENANT, expert_id)
        started = note("load the bench aggregate", started)
        active = (
            await ask(nc, GetActiveAdapter(expert_id=expert_id))
        ).adapter_id  # fmt: skip
        started = note("the active version (qry.registry.active)", started)
        async with engine.connect() as conn:
            started = note("connection checkout", started)
            rows = (await conn.execute(sql, params)).all()
            started = note("SQL: the finished runs", started)
            [views.to_view(row) for row in rows]
            started = note("rows → BenchmarkView", started)
            reply = await views.summary(conn, query, bench, active)
            started = note("views.summary whole (the above two, latest ×2, alerts)", started)
        body = encode(reply)
        started = note("encode the reply", started)
        decode(body, BenchSummary)
        note("decode the reply", started)
    split = {step: statistics.median(times) * 1000 for step, times in steps.items()}
    split["reply_bytes"] = len(body)
    return split


# ---- a quick run ---------------------------------------------------------------------------


async def quick_run(nc, settings) -> dict:
    expert_id = await new_expert(nc, PROFILE)
    started = time.perf_counter()  # the first ask loads the model (and converts it once)
    warm = Ask(expert_id=expert_id, question="Say hello.", mode="closed", max_tokens=1,
               temperature=0.0, adapter="base", purpose="benchmark")  # fmt: skip
    await ask(nc, warm, timeout=900.0)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    await ask(nc, Embed(texts=["warm up"]), timeout=300.0)
    embed_s = time.perf_counter() - started

    cmd = StartBenchmark(expert_id=expert_id, suite="builtin", size="quick", adapter_id="base")
    started = time.perf_counter()
    run_id = (await ask(nc, cmd)).run_id
    seen = None
    while seen is None or seen.status not in ENDED:
        await asyncio.sleep(0.25)
        seen = await ask(nc, GetBenchmark(run_id=run_id))  # fmt: skip
        if time.perf_counter() - started > RUN_TIMEOUT_S:
            raise RuntimeError(f"the quick run did not end in {RUN_TIMEOUT_S:.0f} s: {seen}")
    wall_s = time.perf_counter() - started
    assert seen.status == "succeeded", f"the quick run ended {seen.status}: {seen.error}"
    results = await ask(nc, GetResults(run_id=run_id))  # fmt: skip
    raw = await asyncio.to_thread(raw_generations, settings, results)
    answered_ms = [r.response_ms for r in results.results]
    tokens = [r.completion_tokens for r in results.results]
    return {
        "model": settings.base_model,
        "max_tokens": settings.bench_max_tokens,
        "questions": len(results.questions),
        "first_ask_s": load_s,
        "embedder_warm_s": embed_s,
        "run_wall_s": wall_s,
        "answers_sum_s": sum(answered_ms) / 1000,
        "service_tokens": sum(tokens),
        "cut_off": sum(r.cut_off for r in results.results),
        "composite": seen.composite_score,
        "resources": {"cpu_percent": seen.resources.cpu_percent,
                      "ram_mb": seen.resources.ram_mb} if seen.resources else None,
        **raw,
    }  # fmt: skip


def raw_generations(settings, results: BenchmarkResults) -> dict:
    """The run's generations bare: the same model, the same closed-book prompt, greedy."""
    import torch

    from services.expert.answering.prompts import closed_messages
    from services.expert.llm import LocalModel

    started = time.perf_counter()
    local = LocalModel.load(settings.base_model, settings.home)
    load_s = time.perf_counter() - started
    tok, model = local.tokenizer, local.model
    count = lambda text: len(tok.encode(text, add_special_tokens=False))  # noqa: E731
    context = int(getattr(model.config, "max_position_embeddings", 0) or tok.model_max_length)
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    answer_tokens = min(settings.bench_max_tokens, settings.max_answer_tokens)
    seconds, tokens, same_length = [], [], 0
    by_id = {r.question_id: r for r in results.results}
    for question in results.questions:
        messages = closed_messages(PROFILE, question.question, context_tokens=context,
                                   answer_tokens=answer_tokens, count=count)  # fmt: skip
        prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        ids = torch.tensor([tok.encode(prompt, add_special_tokens=False)])
        started = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                 max_new_tokens=answer_tokens, do_sample=False,
                                 pad_token_id=pad)  # fmt: skip
        seconds.append(time.perf_counter() - started)
        tokens.append(out.shape[1] - ids.shape[1])
        same_length += tokens[-1] == by_id[question.id].completion_tokens
    return {
        "raw_load_s": load_s,
        "raw_sum_s": sum(seconds),
        "raw_tokens": sum(tokens),
        "raw_same_length": same_length,
    }


# ---- the run -------------------------------------------------------------------------------


async def seeded_expert(hosts: dict, settings) -> tuple[str, dict]:
    """An expert with RUNS finished runs appended to the log, then the benchmark service
    started over them (into `hosts`) and caught up with what its reactors add: the expert's
    id, and how long appending, projecting and reacting took."""
    nc = hosts["expert"].nc
    store = EventStore(nc.jetstream())
    expert_id = await new_expert(nc, Profile(name="A thousand runs"))
    await store.ensure_stream(CONTEXT)
    started = time.perf_counter()
    await seed_runs(store, expert_id)
    append_s = time.perf_counter() - started
    started = time.perf_counter()
    hosts["benchmark"] = await start_service(settings, "benchmark")
    await hosts["benchmark"].wait_caught_up(timeout=600.0)
    projected_s = time.perf_counter() - started
    await reactors_drained(nc.jetstream())
    await hosts["benchmark"].wait_caught_up(timeout=600.0)  # what the reactors added
    drained_s = time.perf_counter() - started
    timings = {
        "append_s": append_s,
        "projection_caught_up_s": projected_s,
        "reactors_caught_up_s": drained_s,
    }
    return expert_id, timings


async def run() -> None:
    begin()
    async with embedded_stack() as stack:
        settings = settings_for(stack)
        hosts = {c: await start_service(settings, c) for c in ("expert", "knowledge", "registry")}
        engine = make_engine(stack.database_url)
        try:
            expert_id, timings = await seeded_expert(hosts, settings)
            nc = hosts["expert"].nc
            reads = await read_figures(nc, engine, EventStore(nc.jetstream()), expert_id)
            reads |= timings
            quick = await quick_run(nc, settings)
        finally:
            await engine.dispose()
            for host in reversed(list(hosts.values())):
                await host.stop()
    report(reads, quick)


def report(reads: dict, quick: dict) -> None:
    print(f"\nbench_runs: {RUNS:,} finished runs ({2 * RUNS:,} events) appended in"
          f" {reads['append_s']:.1f} s; with the service started, the projection caught up at"
          f" {reads['projection_caught_up_s']:.1f} s, its reactors at"
          f" {reads['reactors_caught_up_s']:.1f} s")  # fmt: skip
    rows = []
    for key, label in (("summary", GetSummary.subject), ("runs", ListBenchmarks.subject)):
        f = reads[key]
        rows += [
            (f"service: {label}, {RUNS:,} runs", f["service_p50_ms"], f["service_p95_ms"],
             round(f["service_p50_ms"] / f["raw_p50_ms"], 1)),
            ("raw: its SELECT (SQLAlchemy)", f["raw_p50_ms"], f["raw_p95_ms"], 1.0),
        ]  # fmt: skip
    print_table(f"dashboard reads ({CALLS} calls each, alternating)",
                ("run", "p50 ms", "p95 ms", "p50 ÷ raw"), rows)  # fmt: skip
    split = reads["summary"]["split"]
    print_table(f"one summary of {RUNS:,} runs, step by step in this process (median ms)",
                ("step", "ms"), list(split.items()))  # fmt: skip
    print(f"  (the runs reply of {RUNS:,}: {reads['runs']['reply_bytes']:,} bytes)")
    q = quick
    print_table(
        f"a quick run: {q['model']}, {q['questions']} questions, greedy, up to"
        f" {q['max_tokens']} tokens (first ask {q['first_ask_s']:.1f} s with the model load,"
        f" embedder warm-up {q['embedder_warm_s']:.1f} s; raw load {q['raw_load_s']:.1f} s)",
        ("run", "seconds", "tokens", "÷ raw"),
        [
            ("service: cmd.benchmark.start → succeeded", q["run_wall_s"], q["service_tokens"],
             round(q["run_wall_s"] / q["raw_sum_s"], 2)),
            ("  of which the expert's answers (Σ response_ms)", q["answers_sum_s"], "", ""),
            ("raw: model.generate of the same 10, summed", q["raw_sum_s"], q["raw_tokens"], 1.0),
        ],
    )  # fmt: skip
    print(f"  (composite {q['composite']:.1f}; answers cut off {q['cut_off']}; raw answers of"
          f" the same length as the service's: {q['raw_same_length']}/{q['questions']};"
          f" PRD: under 20 minutes)")  # fmt: skip
    record("bench_runs", {"reads": reads, "quick_run": quick})


if __name__ == "__main__":
    asyncio.run(run())
