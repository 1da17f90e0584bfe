"""Building datasets: seconds per 100 examples for each source, beside the raw cost of the
same work done directly, same run.

* knowledge, offline: a build of 100 questions from a 40-page book (HTTP → dataset service →
  passages over NATS → offline generator → rules → split → JSONL stored → ready seen) beside
  the generator, rules and split called directly on the same passages.
* knowledge, a backend: 100 questions written by a model server (a scripted
  OpenAI-compatible server answering at once, so what is measured is Simtune's share: the
  NATS hop to the expert service, its backend client, the rules), with the generation rate
  limit raised to 100/s; beside the same 100 prompts sent to the same server with the
  `openai` client directly.
* manual: 100 hand-written examples, beside the rules and split on them directly.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import openai

from benchmarks.common import (
    begin,
    documents_ready,
    embedded_stack,
    print_table,
    product_api,
    record,
)
from benchmarks.corpus import book
from contracts.dataset import Provenance
from contracts.knowledge import ListPassages
from runtime.models import load_tokenizer
from runtime.rpc import ask
from runtime.settings import load_settings
from services.dataset.candidates import Candidate
from services.dataset.exports import to_jsonl
from services.dataset.model_qa import backend_prompt
from services.dataset.offline_qa import knowledge_candidates
from services.dataset.rules import screen
from services.dataset.split import assign
from tests.support.scripted_llm import ScriptedLLM, serving

N = 100
KEY = "sk-bench"


def written(messages: list[dict]) -> str:
    text = messages[-1]["content"]
    return json.dumps({"question": f"What does this say ({len(text)})?", "answer": text[-80:]})


async def build(api: httpx.AsyncClient, expert_id: str, sources: dict) -> float:
    started = time.perf_counter()
    reply = await api.post(f"/api/experts/{expert_id}/datasets", json={"sources": sources})
    dataset_id = reply.json()["dataset_id"]
    while (view := (await api.get(f"/api/datasets/{dataset_id}")).json())["status"] == "building":
        await asyncio.sleep(0.05)
    assert view["status"] == "ready", view
    return time.perf_counter() - started


def raw_rules(candidates: list[Candidate], count) -> float:
    started = time.perf_counter()
    kept, _ = screen(candidates, count=count, max_seq_tokens=2048, banned_topics=[],
                     max_examples=500, seed=0)  # fmt: skip
    to_jsonl(assign(kept, 0))
    return time.perf_counter() - started


async def run() -> None:
    begin()
    llm = ScriptedLLM(KEY, written)
    async with embedded_stack() as stack, serving(llm) as llm_url:
        env = {
            "NATS_URL": stack.nats_url,
            "DATABASE_URL": stack.database_url,
            "SIMTUNE_HOME": str(stack.home),
            "SIMTUNE_LOG_LEVEL": "warning",
            "SIMTUNE_GENERATION_RATE": "100",
        }
        settings = load_settings(env)
        contexts = ("expert", "ingest", "knowledge", "dataset")
        figures: dict[str, tuple[float, float]] = {}
        async with product_api(settings, contexts, 600) as (hosts, api):
            expert = (await api.post("/api/experts", json={"name": "Bench"})).json()
            text = "\n\n".join(book(40)).encode()
            await documents_ready(api, expert["id"], [("book.txt", text, "text/plain")])
            page = await ask(
                hosts[0].nc,
                ListPassages(expert_id=expert["id"], limit=1000),
            )  # fmt: skip
            passages = page.passages
            tokenizer = await asyncio.to_thread(load_tokenizer, "smollm2", stack.home)
            count = lambda t: len(tokenizer.encode(t, add_special_tokens=False))  # noqa: E731
            await build(api, expert["id"], {"manual": [{"question": "Warm?", "answer": "Up."}]})

            offline = {"knowledge": {"questions": N, "generator": "offline"}}
            served = await build(api, expert["id"], offline)
            started = time.perf_counter()
            made = knowledge_candidates(passages, questions=N, system="You are Bench.")
            raw = time.perf_counter() - started + raw_rules(made, count)
            figures["knowledge, offline generator"] = (served, raw)

            backend = {"kind": "openai", "base_url": f"{llm_url}/v1", "model": "s",
                       "api_key": KEY}  # fmt: skip
            await api.put(f"/api/experts/{expert['id']}/backend", json=backend)
            by_model = {"knowledge": {"questions": N, "generator": "backend"}}
            served = await build(api, expert["id"], by_model)
            client = openai.AsyncOpenAI(base_url=f"{llm_url}/v1", api_key=KEY)
            chosen = passages[:: max(1, len(passages) // N)][:N]
            started = time.perf_counter()
            for passage in chosen:
                await client.chat.completions.create(
                    model="s", messages=backend_prompt(passage.text), max_tokens=400
                )
            raw = time.perf_counter() - started
            figures["knowledge, a model backend (instant server)"] = (served, raw)

            manual = [{"question": f"Question {n}?", "answer": f"Answer {n}."} for n in range(N)]
            served = await build(api, expert["id"], {"manual": manual})
            candidates = [
                Candidate(source="manual", question=m["question"], answer=m["answer"],
                          system="You are Bench.", group=str(n), provenance=Provenance())
                for n, m in enumerate(manual)
            ]  # fmt: skip
            figures["manual examples"] = (served, raw_rules(candidates, count))

    rows = [
        (source, served * 100 / N, raw * 100 / N, round(raw / served, 3))
        for source, (served, raw) in figures.items()
    ]
    print_table(
        f"datasets: seconds per 100 examples ({N} asked a build)",
        ("source", "build s", "raw s", "ratio raw/build"),
        rows,
    )
    record("datasets", {source: {"build_s": s, "raw_s": r} for source, (s, r) in figures.items()})
