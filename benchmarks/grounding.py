"""Grounding: do the expert's answers cite the page that holds the answer, and how much of
what the model says do its passages support — on the page-labelled manuals
(`tests/support/manual_set.py`: two software manuals built as real PDFs, questions a person
would ask, each labelled with the page that answers it), with the bundled SmolLM2 and the
product's default settings, through the gateway as the console asks (SSE).

Each question is asked once per configuration:

- closed book (mode "closed"): no passages, so nothing can be cited or supported;
- RAG, quotes off (`quote_sources: "never"`): the model's answer with attribution after
  generation (its citations corrected, its unsupported sentences flagged);
- RAG, default (`quote_sources: "auto"`): the above, led by quotes from the documents,
  as the bundled model answers by default;
- the same two after one turn of the loop: a dataset of RAFT-style examples written from
  the same manuals (`DATASET_QUESTIONS` knowledge questions), a LoRA (rank 8, `TRAIN_STEPS`
  steps) trained on it by the trainer service on the CPU, activated (`GROUNDING_ADAPTER=off`
  skips this part).

Baseline, same answers: "as today" is the model's own text as it streamed (the `token`
events, before attribution), its citation markers checked against the numbered sources as
the product did before attribution existed. Figures per configuration: the share of
answerable questions whose answer cites the labelled page (document and page), the share of
the model's claim sentences that are supported (mean over answers), the share of answers
with every sentence judged (claims present), and for "auto" how many answers were led by
quotes. Questions the manuals do not answer are reported apart: an answer led by quotes
there quoted something irrelevant.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import time

import httpx
import msgspec

from benchmarks.common import (
    begin,
    documents_ready,
    embedded_stack,
    print_table,
    product_api,
    record,
)
from services.expert.answering import quoting
from services.expert.answering.attribution import read
from services.expert.answering.citations import check_citations
from services.expert.answering.sources import Source
from services.knowledge.embedder import Embedder
from tests.support.manual_set import MANUAL, SECOND

MAX_TOKENS = 128
LIMIT = int(os.environ.get("GROUNDING_QUESTIONS", "0")) or None  # a quicker partial run
ADAPTER = os.environ.get("GROUNDING_ADAPTER", "on") != "off"
DATASET_QUESTIONS = 120
TRAIN_STEPS = int(os.environ.get("GROUNDING_TRAIN_STEPS", "40"))
TRAIN_CONFIG = {
    "lora_rank": 8,
    "lora_alpha": 16,
    "learning_rate": 3e-4,
    "batch_size": 4,
    "gradient_accumulation_steps": 1,
    "max_seq_length": 1024,
    "max_steps": TRAIN_STEPS,
    "backend": "peft",
}


async def ask(api: httpx.AsyncClient, expert_id: str, question: str, mode: str) -> dict:
    """One answer through SSE: the raw model text (`token` events), the numbered sources
    (`sources`) and the finished answer (`done`)."""
    body = {"question": question, "mode": mode, "max_tokens": MAX_TOKENS}
    raw, sources, done, event = [], [], None, None
    async with api.stream(
        "POST",
        f"/api/experts/{expert_id}/ask",
        json=body,
        headers={"Accept": "text/event-stream"},
    ) as reply:
        async for line in reply.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = json.loads(line[5:])
                if event == "token":
                    raw.append(data["text"])
                elif event == "sources":
                    sources = data["sources"]
                elif event == "done":
                    done = data
    if done is None:
        raise RuntimeError(f"no answer to {question!r}")
    return {"raw": "".join(raw), "sources": sources, "done": done}


async def ask_all(
    api: httpx.AsyncClient, expert_id: str, questions: list, quote_sources: str
) -> list[tuple]:
    """Every question in RAG mode, with the expert's `quote_sources` set first."""
    patch = {"quote_sources": quote_sources}
    (await api.patch(f"/api/experts/{expert_id}", json=patch)).raise_for_status()
    return [(q, await ask(api, expert_id, q.question, "rag")) for q in questions]


def cites(citations: list[dict], document: str, page: int | None) -> bool:
    return page is not None and any(
        c["filename"] == document and c["page"] == page for c in citations
    )


def today_citations(answer: dict) -> list[dict]:
    """What the model's own markers cited, checked as before attribution."""
    sources = [
        Source(s["n"], s["document_id"], s["filename"], s["page"], s["chunk_id"], "")
        for s in answer["sources"]
    ]
    checked = check_citations(answer["raw"], sources)
    return [{"filename": s.filename, "page": s.page} for s in checked.cited]


def supported_share(claims: list[dict]) -> float | None:
    judged = [c for c in claims if c["origin"] == "model"]
    judged = [c for c in judged if c["support"] in ("supported", "unsupported")]
    if not judged:
        return None
    return sum(c["support"] == "supported" for c in judged) / len(judged)


def summarise(name: str, answers: list[tuple], *, today: bool = False) -> dict:
    answerable = [(q, a) for q, a in answers if q.page is not None]
    if today:
        cited = [cites(today_citations(a), q.document, q.page) for q, a in answerable]
    else:
        cited = [cites(a["done"]["citations"], q.document, q.page) for q, a in answerable]
    shares = [supported_share(a["done"]["claims"]) for _, a in answers]
    shares = [s for s in shares if s is not None]
    led = [any(c["origin"] == "documents" for c in a["done"]["claims"]) for _, a in answers]
    uncovered = [a for q, a in answers if q.page is None]
    led_uncovered = [
        any(c["origin"] == "documents" for c in a["done"]["claims"]) for a in uncovered
    ]
    return {
        "config": name,
        "cites_answer_page": sum(cited) / max(len(cited), 1),
        "supported_share": statistics.mean(shares) if shares else 0.0,
        "with_claims": sum(bool(a["done"]["claims"]) for _, a in answers) / len(answers),
        "led_by_quotes": sum(led) / len(answers),
        "uncovered_led": sum(led_uncovered) / max(len(led_uncovered), 1),
        "answers": len(answers),
        "median_latency_ms": statistics.median(a["done"]["latency_ms"] for _, a in answers),
        "median_attribution_ms": statistics.median(
            a["done"].get("attribution_ms", 0.0) for _, a in answers
        ),
    }


async def upload(api: httpx.AsyncClient, expert_id: str) -> None:
    files = [(m.filename, m.build(), "application/pdf") for m in (MANUAL, SECOND)]
    await documents_ready(api, expert_id, files)


async def quote_cases(api: httpx.AsyncClient, expert_id: str, questions: list, encode) -> list:
    """Per question: the six passages the expert would be given, split, with vectors."""
    cases = []
    for q in questions:
        found = await api.get(f"/api/experts/{expert_id}/search", params={"q": q.question, "k": 6})
        sources = [
            Source(n, h["document_id"], h["filename"], h["page"], h["chunk_id"], h["text"])
            for n, h in enumerate(found.json()["results"], start=1)
        ]
        reading = read("", sources)
        texts = [q.question, *(s for part in reading.passage_sentences for s in part)]
        cases.append((q, sources, reading, await asyncio.to_thread(encode, texts)))
    return cases


def quote_sweep(cases: list) -> list[tuple]:
    """For each floor and rank penalty: the share of answerable questions whose quotes
    include the labelled page, quote a wrong page only, or quote nothing; and the share of
    uncovered questions that quote anything (each a quote of something irrelevant)."""
    rows = []
    answerable = [c for c in cases if c[0].page is not None]
    uncovered = [c for c in cases if c[0].page is None]
    for penalty in (0.0, 0.03, 0.06, 0.1):
        for floor in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
            right = wrong = 0
            quoted_uncovered = 0
            for q, sources, reading, vectors in cases:
                quotes = quoting.choose(
                    q.question, vectors[0], reading.passage_sentences, vectors[1:],
                    [s.n for s in sources], min_relevance=floor, rank_penalty=penalty,
                )  # fmt: skip
                pages = {(sources[x.n - 1].filename, sources[x.n - 1].page) for x in quotes}
                if q.page is None:
                    quoted_uncovered += bool(quotes)
                elif (q.document, q.page) in pages:
                    right += 1
                elif quotes:
                    wrong += 1
            n = max(len(answerable), 1)
            rows.append(
                (penalty, floor, round(right / n, 3), round(wrong / n, 3),
                 round(1 - (right + wrong) / n, 3),
                 round(quoted_uncovered / max(len(uncovered), 1), 3))
            )  # fmt: skip
    return rows


async def waited(api: httpx.AsyncClient, path: str, done: set[str], what: str) -> dict:
    while True:
        view = (await api.get(path)).json()
        if view.get("status") in done:
            return view
        if view.get("status") in ("failed", "cancelled"):
            raise RuntimeError(f"{what} {view.get('status')}: {view}")
        await asyncio.sleep(2)


async def one_turn_of_the_loop(api: httpx.AsyncClient, expert_id: str) -> dict:
    """A RAFT-style dataset from the documents, a LoRA trained on it, activated."""
    body = {"sources": {"knowledge": {"questions": DATASET_QUESTIONS}}, "seed": 0}
    accepted = (await api.post(f"/api/experts/{expert_id}/datasets", json=body)).json()
    dataset = await waited(
        api, f"/api/datasets/{accepted['dataset_id']}", {"ready"}, "the dataset build"
    )
    started = time.perf_counter()
    body = {"expert_id": expert_id, "dataset_id": dataset["id"], "config": TRAIN_CONFIG}
    reply = await api.post("/api/finetune", json=body)
    reply.raise_for_status()
    run_id = reply.json().get("run_id") or reply.json()["id"]
    trained = await waited(api, f"/api/finetune/{run_id}", {"succeeded"}, "the training run")
    (await api.post(f"/api/lora/{trained['adapter_id']}/activate")).raise_for_status()
    return {
        "train_examples": dataset["train_examples"],
        "steps": TRAIN_STEPS,
        "train_s": time.perf_counter() - started,
        "loss": trained.get("loss"),
    }


async def run() -> None:
    begin()
    questions = [*MANUAL.questions, *SECOND.questions][:LIMIT]
    results: dict[str, list[tuple]] = {
        "closed": [], "never": [], "auto": [], "adapter-never": [], "adapter-auto": [],
    }  # fmt: skip
    loop: dict = {}
    sweep: list = []
    async with embedded_stack() as stack:
        settings = msgspec.structs.replace(
            stack.settings(), min_training_examples=20, finetune_schedule="off"
        )
        parts = ("expert", "ingest", "knowledge", "dataset", "trainer", "registry")
        async with product_api(settings, parts, 900) as (_, api):
            expert = (
                await api.post(
                    "/api/experts",
                    json={"name": "Manuals guide", "domain": "tallyctl and Quaystone"},
                )
            ).json()
            await upload(api, expert["id"])
            embedder = await asyncio.to_thread(Embedder)
            cases = await quote_cases(api, expert["id"], questions, embedder.encode)
            sweep = quote_sweep(cases)
            print_table(
                "quotes: which page the lead quotes, by floor and rank penalty",
                (
                    "penalty",
                    "floor",
                    "right page",
                    "wrong page",
                    "no quote",
                    "uncovered quoted",
                ),
                sweep,
            )
            await ask(api, expert["id"], "What is tallyctl?", "rag")  # loads the model
            started = time.perf_counter()
            for config in ("never", "auto"):
                results[config] = await ask_all(api, expert["id"], questions, config)
            for q in questions:
                answer = await ask(api, expert["id"], q.question, "closed")
                results["closed"].append((q, answer))
            seconds = time.perf_counter() - started
            if ADAPTER:
                loop = await one_turn_of_the_loop(api, expert["id"])
                for config in ("never", "auto"):
                    answers = await ask_all(api, expert["id"], questions, config)
                    results[f"adapter-{config}"] = answers
    rows = [
        summarise("closed book", results["closed"]),
        summarise("RAG as today (model's own markers)", results["never"], today=True),
        summarise("RAG + attribution (quotes off)", results["never"]),
        summarise("RAG + attribution + quotes (default)", results["auto"]),
    ]
    if loop:
        rows += [
            summarise("adapter: RAG as today (model's own markers)", results["adapter-never"],
                      today=True),
            summarise("adapter: RAG + attribution (quotes off)", results["adapter-never"]),
            summarise("adapter: RAG + attribution + quotes (default)", results["adapter-auto"]),
        ]  # fmt: skip
        rows[4]["supported_share"], rows[4]["with_claims"] = None, 0.0
        print(f"\nthe loop: {loop}")
        junk = [a for _, a in results["adapter-never"] if contents_run(a["raw"])]
        print(f"adapter answers with contents-page runs: {len(junk)} of {len(questions)}")
        loop["contents_runs"] = len(junk)
        loop["marker_only"] = sum(marker_only(a["raw"]) for _, a in results["adapter-never"])
        print(f"adapter answers that are only markers: {loop['marker_only']}")
    rows[1]["supported_share"] = None  # before attribution, no sentence was judged
    rows[1]["with_claims"] = 0.0
    keys = ("cites_answer_page", "supported_share", "with_claims", "led_by_quotes", "uncovered_led")
    print(
        f"\ngrounding: {len(questions)} questions ({sum(q.page is not None for q in questions)}"
        f" answerable) over {MANUAL.filename} and {SECOND.filename}, bundled SmolLM2,"
        f" {MAX_TOKENS} tokens, default sampling; {seconds:.0f} s of asking"
    )
    print_table(
        "grounding",
        ("configuration", *keys),
        [(r["config"], *("-" if r[k] is None else round(r[k], 3) for k in keys)) for r in rows],
    )
    for q, a in results["auto"]:
        if q.page is not None and not cites(a["done"]["citations"], q.document, q.page):
            pages = [(c["filename"][:10], c["page"]) for c in a["done"]["citations"]]
            given = [(s["filename"][:10], s["page"]) for s in a["sources"]]
            print(f"  miss: {q.question!r} wants p{q.page}; cited {pages}; given {given}")
    record("grounding", {"questions": len(questions), "rows": rows, "loop": loop, "sweep": sweep})


def contents_run(text: str) -> bool:
    """A run of section numbers or dot leaders, as a contents page prints them."""
    return bool(re.search(r"(?:\d+(?:\.\d+)+\s+){3,}|(?:\.\s?){6,}", text))


def marker_only(text: str) -> bool:
    """An answer that is nothing but citation markers."""
    return bool(text.strip()) and not re.sub(r"\[\d+(?:,\s*\d+)*\]|\s|[.,]", "", text)
