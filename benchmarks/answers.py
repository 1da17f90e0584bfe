"""Asking an expert end to end, beside the bare model: HTTP → gateway → NATS → expert service
(search over NATS, prompt, the bundled SmolLM2 on the local backend) → tokens streamed back
over NATS and SSE, read by an httpx client as a browser would.

Per question: the client's time to the first `token` event and tokens/s over the stream;
the service's own split from the trace (retrieval, prompt building, first token, whole).
Baseline, same run, same process: `model.generate` with a TextIteratorStreamer on the very
prompt the service built (rebuilt with the product's prompt builder from the trace's
passages), same sampling settings. Questions alternate between the two.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time

import httpx

from benchmarks.common import (
    begin,
    documents_ready,
    embedded_stack,
    percentile,
    print_table,
    product_api,
    record,
)
from contracts.expert import Profile
from services.expert.answering.prompts import rag_messages
from services.expert.answering.sources import Source
from services.expert.llm import LocalModel

MAX_TOKENS = 96
QUESTIONS = [
    "Who planted the oldest tree in the orchard?",
    "When is cider pressed?",
    "How many kinds of apples grow in the orchard?",
    "What protects the trees in winter?",
    "Where do the bees come from?",
    "Why are the rows planted north to south?",
]
DOCUMENT = " ".join(
    [
        "The Brambleton orchard grows three kinds of apples: Russet, Bramley and Cox.",
        "The oldest tree is a Russet planted in 1911 by Agnes Moller.",
        "Cider is pressed every October in the old barn by the river.",
        "In winter the young trees are wrapped in straw against the frost.",
        "Bees come from the hives of the neighbouring farm of the Okafor family.",
        "The rows run north to south so that both sides of each tree get the sun.",
    ]
    * 4
)


def profile() -> Profile:
    return Profile(name="Orchard guide", domain="the Brambleton orchard")


async def ask(api: httpx.AsyncClient, expert_id: str, question: str) -> dict:
    started, first, done = time.perf_counter(), None, None
    body = {"question": question, "mode": "rag", "max_tokens": MAX_TOKENS}
    headers = {"Accept": "text/event-stream"}
    async with api.stream(
        "POST", f"/api/experts/{expert_id}/ask", json=body, headers=headers
    ) as reply:
        event = None
        async for line in reply.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "token" and first is None:
                first = time.perf_counter() - started
            elif line.startswith("data:") and event == "done":
                done = json.loads(line[5:])
    total = time.perf_counter() - started
    tokens = done["completion_tokens"]
    return {
        "ttft": first,
        "total": total,
        "tokens": tokens,
        "tokens_per_s": (tokens - 1) / (total - first) if tokens > 1 else 0.0,
        "done": done,
    }


def raw_generate(local: LocalModel, messages: list[dict]) -> dict:
    import torch
    from transformers import TextIteratorStreamer

    prompt = local.tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True
    )
    ids = torch.tensor([local.tokenizer.encode(prompt, add_special_tokens=False)])
    streamer = TextIteratorStreamer(local.tokenizer, skip_prompt=True, skip_special_tokens=True)
    out: list = []
    settings = dict(do_sample=True, temperature=0.7, top_p=0.95, max_new_tokens=MAX_TOKENS)

    def work() -> None:
        with torch.inference_mode():
            out.append(local.model.generate(ids, streamer=streamer, **settings))

    started = time.perf_counter()
    worker = threading.Thread(target=work)
    worker.start()
    first = None
    for piece in streamer:
        if piece and first is None:
            first = time.perf_counter() - started
    worker.join()
    total = time.perf_counter() - started
    tokens = out[0].shape[1] - ids.shape[1]
    return {"ttft": first, "total": total, "tokens": tokens,
            "tokens_per_s": (tokens - 1) / (total - first) if tokens > 1 else 0.0}  # fmt: skip


async def run() -> None:
    begin()
    async with embedded_stack() as stack:
        settings = stack.settings()
        async with product_api(settings, ("expert", "ingest", "knowledge"), 600) as (_, api):
            expert = (await api.post("/api/experts", json={"name": "Orchard guide",
                      "domain": "the Brambleton orchard"})).json()  # fmt: skip
            files = [("orchard.txt", DOCUMENT.encode(), "text/plain")]
            await documents_ready(api, expert["id"], files)
            load_started = time.perf_counter()
            await ask(api, expert["id"], "Warm-up: what is this orchard?")  # loads the model
            load_s = time.perf_counter() - load_started
            local = await asyncio.to_thread(LocalModel.load, "smollm2", settings.home)
            served, raw = [], []
            for n, question in enumerate(QUESTIONS):
                for side in ("served", "raw") if n % 2 == 0 else ("raw", "served"):
                    if side == "served":
                        served.append(await ask(api, expert["id"], question))
                    else:
                        messages = await prompt_of(api, expert["id"], local, question)
                        raw.append(await asyncio.to_thread(raw_generate, local, messages))

    def med(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    split = {
        key: percentile([r["done"][key] for r in served], 50)
        for key in ("retrieval_ms", "prompt_ms", "ttft_ms", "latency_ms")
    }
    rows = [
        ("through the gateway (SSE)", med(served, "ttft") * 1000, med(served, "tokens_per_s")),
        ("raw model.generate, same prompt", med(raw, "ttft") * 1000, med(raw, "tokens_per_s")),
        ("ratio (tokens/s)", "", round(med(served, "tokens_per_s") / med(raw, "tokens_per_s"), 3)),
    ]
    print(f"answers: SmolLM2-135M (first ask, model load included: {load_s:.1f} s), "
          f"{len(QUESTIONS)} questions, up to {MAX_TOKENS} tokens, sampled")  # fmt: skip
    print_table("answers", ("run", "first token ms", "tokens/s"), rows)
    print_table("one answer inside the service (median ms)", ("step", "ms"), list(split.items()))
    record(
        "answers",
        {
            "questions": len(QUESTIONS),
            "served_ttft_ms": med(served, "ttft") * 1000,
            "served_tokens_per_s": med(served, "tokens_per_s"),
            "raw_ttft_ms": med(raw, "ttft") * 1000,
            "raw_tokens_per_s": med(raw, "tokens_per_s"),
            "service_split_ms": split,
            "first_ask_s": load_s,
        },
    )


async def prompt_of(
    api: httpx.AsyncClient, expert_id: str, local: LocalModel, question: str
) -> list[dict]:
    """The prompt the service builds for `question`: the same search (6 passages), the same
    prompt builder, the same token counting."""
    found = await api.get(f"/api/experts/{expert_id}/search", params={"q": question, "k": 6})
    sources = [
        Source(n, h["document_id"], h["filename"], h["page"], h["chunk_id"], h["text"])
        for n, h in enumerate(found.json()["results"], start=1)
    ]
    count = lambda text: len(local.tokenizer.encode(text, add_special_tokens=False))  # noqa: E731
    messages, _ = rag_messages(
        profile(), question, sources, context_tokens=local.model.config.max_position_embeddings,
        answer_tokens=MAX_TOKENS, count=count,
    )  # fmt: skip
    return messages
