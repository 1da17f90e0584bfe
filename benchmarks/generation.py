"""Local generation with the bundled SmolLM2: the LocalBackend (queue, worker thread, streaming
to asyncio, incremental decoding) beside a raw `model.generate` with a TextIteratorStreamer,
same model object, same prompt, greedy, alternating runs; then adapter switching, the
AdapterCache beside PEFT's own load_adapter / set_adapter, with 1, 10 and 50 random LoRAs.

Both generation runs use a long-lived thread of their own. On this CPU build (OpenMP), once a
second thread has run torch kernels every thread generates markedly slower than a lone one
does, so the absolute tokens/s here is that of a process where other threads use torch too;
the ratio compares like with like.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.common import Timer, begin, print_table, record
from runtime.settings import load_settings
from services.expert.llm import Adapter, LocalBackend, LocalModel, Params, Piece
from services.expert.llm.adapters import AdapterCache

NEW_TOKENS = 128
REPEATS = 3
ADAPTER_COUNTS = (1, 10, 50)
SWITCH_ROUNDS = 3
RAW_THREAD = ThreadPoolExecutor(1, thread_name_prefix="raw-generate")
QUESTION = [{"role": "user", "content": "Explain step by step how a bicycle's gears work."}]


async def timed_backend(backend: LocalBackend) -> tuple[float, float, int]:
    """(seconds to the first piece, total seconds, new tokens) through LocalBackend.stream."""
    first, finished = None, None
    started = time.perf_counter()
    async for item in backend.stream(QUESTION, Params(NEW_TOKENS, temperature=0)):
        if isinstance(item, Piece):
            first = first or time.perf_counter() - started
        else:
            finished = item
    return first, time.perf_counter() - started, finished.completion_tokens


def timed_raw(local: LocalModel) -> tuple[float, float, int]:
    """The same through model.generate on a thread of its own, read from a
    TextIteratorStreamer. The thread is long-lived like the backend's worker: a fresh thread
    per run would pay for starting a new OpenMP team each time."""
    import torch
    from transformers import TextIteratorStreamer

    prompt = local.tokenizer.apply_chat_template(
        QUESTION, tokenize=False, add_generation_prompt=True
    )
    ids = torch.tensor([local.tokenizer.encode(prompt, add_special_tokens=False)])
    streamer = TextIteratorStreamer(local.tokenizer, skip_prompt=True, skip_special_tokens=True)
    output = []

    def generate() -> None:
        with torch.inference_mode():
            output.append(
                local.model.generate(
                    input_ids=ids,
                    attention_mask=torch.ones_like(ids),
                    max_new_tokens=NEW_TOKENS,
                    do_sample=False,
                    streamer=streamer,
                    pad_token_id=local.tokenizer.pad_token_id,
                )
            )

    first = None
    started = time.perf_counter()
    done = RAW_THREAD.submit(generate)
    for text in streamer:
        if text:
            first = first or time.perf_counter() - started
    done.result()
    return first, time.perf_counter() - started, output[0].shape[1] - ids.shape[1]


def random_adapters(local: LocalModel, count: int, folder: Path) -> list[Adapter]:
    """`count` LoRAs (r=8, q_proj/v_proj) with random weights, saved as adapter folders."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(local.source, dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"])
    peft = get_peft_model(model, config)
    adapters = []
    for n in range(count):
        torch.manual_seed(n)
        for name, weight in peft.named_parameters():
            if "lora_" in name:
                torch.nn.init.normal_(weight, std=0.02)
        peft.save_pretrained(folder / f"lora-{n}")
        adapters.append(Adapter(f"lora-{n}", folder / f"lora-{n}"))
    return adapters


def fresh_base(local: LocalModel):
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(local.source, dtype=torch.float32).eval()


def switch_ours(local: LocalModel, adapters: list[Adapter]) -> tuple[list[float], list[float]]:
    cache = AdapterCache(fresh_base(local), limit=64)
    first, cached = [], []
    for adapter in adapters:
        with Timer() as t:
            cache.activate(adapter)
        first.append(t.s)
    for _ in range(SWITCH_ROUNDS):
        for adapter in adapters:
            with Timer() as t:
                cache.activate(adapter)
            cached.append(t.s)
    return first, cached


def switch_raw(local: LocalModel, adapters: list[Adapter]) -> tuple[list[float], list[float]]:
    from peft import PeftModel

    base, peft = fresh_base(local), None
    first, cached = [], []
    for adapter in adapters:
        with Timer() as t:
            if peft is None:
                peft = PeftModel.from_pretrained(
                    base, adapter.path, adapter_name=adapter.adapter_id
                )
            else:
                peft.load_adapter(adapter.path, adapter_name=adapter.adapter_id)
            peft.set_adapter(adapter.adapter_id)
        first.append(t.s)
    for _ in range(SWITCH_ROUNDS):
        for adapter in adapters:
            with Timer() as t:
                peft.set_adapter(adapter.adapter_id)
            cached.append(t.s)
    return first, cached


async def run() -> None:
    begin()
    home = load_settings({}).home
    with Timer() as loading:
        local = await asyncio.to_thread(LocalModel.load, "smollm2", home)
    backend = LocalBackend(local)

    ours, raw = [], []
    try:
        await timed_backend(backend)  # warm-up: first call allocations, kernels
        await asyncio.to_thread(timed_raw, local)
        for _ in range(REPEATS):
            ours.append(await timed_backend(backend))
            raw.append(await asyncio.to_thread(timed_raw, local))
    finally:
        await backend.close()
    assert {run[2] for run in ours} == {run[2] for run in raw}, "the two runs generated differently"

    def summary(runs):
        ttft = statistics.median(r[0] for r in runs)
        rate = statistics.median(r[2] / r[1] for r in runs)
        return ttft * 1000, rate

    ours_ttft, ours_rate = summary(ours)
    raw_ttft, raw_rate = summary(raw)
    print(
        f"\ngeneration: SmolLM2-135M-Instruct (loaded in {loading.s:.1f} s), greedy,"
        f" {ours[0][2]} new tokens, median of {REPEATS} alternating runs"
    )
    print_table(
        "",
        ("run", "first token ms", "tokens/s"),
        [
            ("LocalBackend.stream", ours_ttft, ours_rate),
            ("raw: model.generate + TextIteratorStreamer", raw_ttft, raw_rate),
            ("ratio backend/raw (tokens/s)", "", round(ours_rate / raw_rate, 3)),
        ],
    )

    folder = Path(tempfile.mkdtemp(prefix="simtune-bench-loras-"))
    switching = {}
    try:
        adapters = random_adapters(local, max(ADAPTER_COUNTS), folder)
        rows = []
        for count in ADAPTER_COUNTS:
            first_ours, cached_ours = switch_ours(local, adapters[:count])
            first_raw, cached_raw = switch_raw(local, adapters[:count])
            figures = {
                "first_load_ms": statistics.mean(first_ours) * 1000,
                "cached_switch_ms": statistics.median(cached_ours) * 1000,
                "raw_first_load_ms": statistics.mean(first_raw) * 1000,
                "raw_cached_switch_ms": statistics.median(cached_raw) * 1000,
            }
            switching[count] = figures
            rows.append(
                (
                    f"{count} adapters: AdapterCache",
                    figures["first_load_ms"],
                    figures["cached_switch_ms"],
                )
            )
            rows.append(
                (
                    f"{count} adapters: raw PEFT",
                    figures["raw_first_load_ms"],
                    figures["raw_cached_switch_ms"],
                )
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print_table(
        "adapter switching (random LoRA r=8 on q_proj/v_proj)",
        ("run", "first load ms (mean)", "cached switch ms (median)"),
        rows,
    )
    record(
        "generation",
        {
            "model": "SmolLM2-135M-Instruct",
            "new_tokens": ours[0][2],
            "repeats": REPEATS,
            "load_s": loading.s,
            "backend_ttft_ms": ours_ttft,
            "backend_tokens_per_s": ours_rate,
            "raw_ttft_ms": raw_ttft,
            "raw_tokens_per_s": raw_rate,
            "ratio": ours_rate / raw_rate,
            "adapter_switching": switching,
        },
    )
