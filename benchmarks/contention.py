"""An answer's latency while a local CPU training run goes on, beside the same answer on an
idle machine (the baseline, same run, same process).

The answer: a greedy generation of `--tokens` tokens by SmolLM2-135M-Instruct in this
process, as the expert service's local backend answers (torch's default threads). The
training: the trainer's own training child (`python -m services.trainer.training JOB`) on
the same model, LoRA, batch 4, steps as long as the measurement lasts, started two ways:

* **limited**, as the trainer starts it now: `SIMTUNE_TRAIN_NICE` (10) steps below this
  process, its numeric libraries held to every core but one (`training_threads()`), dying
  with its parent (`runtime.child_env.lowered`, `thread_caps`);
* **unlimited**, as it was started before: the same priority as this process, torch's
  default threads (every core).

Per condition, `--answers` answers once the child is training (its first progress line),
then the child is stopped; the training steps the child reported meanwhile show what the
limit costs the training. Figures: median and p95 latency, and each median's ratio to the
idle one. Conditions run idle, unlimited, limited, idle again (the two idle runs are pooled).

`python -m benchmarks.contention [--answers N] [--tokens N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import msgspec

from benchmarks.common import ROOT, begin, percentiles, print_table, record
from benchmarks.training import chat_rows, model_folder, write_chat_files
from contracts.trainer import TrainConfig
from runtime.child_env import child_env, die_with_parent, lowered, thread_caps, training_threads
from runtime.cpus import cores
from services.trainer.training.job import TrainingJob

NICE = 10  # SIMTUNE_TRAIN_NICE's default
QUESTION = "Tell me about the lighthouse and the keeper who trims its lamp at dusk."


class Child:
    """A training child, started `limited` or not, and the steps it reports."""

    def __init__(self, job: Path, *, limited: bool) -> None:
        threads = training_threads(0)
        env = child_env(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        if limited:
            env.update(thread_caps(threads))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.trainer.training", str(job)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            preexec_fn=lowered(NICE) if limited else die_with_parent,
            env=env,
        )
        self.steps: list[tuple[float, int]] = []  # (when, step)
        self.training = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                said = json.loads(line)
            except ValueError:
                continue
            if said.get("event") == "progress":
                self.steps.append((time.perf_counter(), int(said.get("step") or 0)))
                self.training.set()
            elif said.get("event") in ("done", "error"):
                self.training.set()

    def steps_per_s(self, since: float, until: float) -> float:
        inside = [s for when, s in self.steps if since <= when <= until]
        return (max(inside) - min(inside)) / (until - since) if len(inside) > 1 else 0.0

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.reader.join(5)


def load_answerer(model_dir: Path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": QUESTION}], add_generation_prompt=True, tokenize=False
    )
    prompt = tokenizer(text, return_tensors="pt").input_ids
    return model, tokenizer, prompt


def answer(model, tokenizer, prompt, tokens: int) -> float:
    import torch

    started = time.perf_counter()
    with torch.inference_mode():
        model.generate(
            prompt,
            attention_mask=torch.ones_like(prompt),
            max_new_tokens=tokens,
            min_new_tokens=tokens,
            do_sample=False,
            pad_token_id=tokenizer.eos_token_id,
        )
    return time.perf_counter() - started


def measure(answerer, count: int, tokens: int, name: str = "") -> list[float]:
    took = [answer(*answerer, tokens) for _ in range(count)]
    if name:
        print(f"  {name}: " + ", ".join(f"{s * 1000:.0f}" for s in took) + " ms", flush=True)
    return took


async def run(answers: int = 8, tokens: int = 24) -> None:
    begin()
    scratch = Path(tempfile.mkdtemp(prefix="simtune-bench-contention-"))
    try:
        model_dir, label = model_folder("smollm2", scratch)
        train = write_chat_files(scratch, chat_rows())
        config = TrainConfig(
            lora_rank=16, lora_alpha=32, batch_size=4, gradient_accumulation_steps=1,
            max_steps=100_000, max_seq_length=512, learning_rate=2e-4, seed=0, backend="peft",
        )  # fmt: skip

        def job(name: str, threads: int) -> Path:
            path = scratch / f"{name}.json"
            path.write_bytes(
                msgspec.json.encode(
                    TrainingJob(
                        model_path=str(model_dir),
                        train_path=str(train),
                        val_path=str(scratch / "val.jsonl"),
                        output_dir=str(scratch / name / "output"),
                        checkpoint_dir=str(scratch / name / "checkpoints"),
                        config=config,
                        backend="peft",
                        resume=False,
                        checkpoint_steps=100_000,
                        threads=threads,
                    )  # fmt: skip
                )
            )
            return path

        answerer = load_answerer(model_dir)
        measure(answerer, 2, tokens)  # warm-up
        latencies: dict[str, list[float]] = {
            "idle": measure(answerer, answers // 2, tokens, "idle")
        }
        rates: dict[str, float] = {}
        for name, limited in (("unlimited", False), ("limited", True)):
            child = Child(job(name, training_threads(0) if limited else 0), limited=limited)
            try:
                if not child.training.wait(600) or child.proc.poll() is not None:
                    raise RuntimeError(f"the {name} training child never started training")
                since = time.perf_counter()
                latencies[name] = measure(answerer, answers, tokens, name)
                rates[name] = child.steps_per_s(since, time.perf_counter())
            finally:
                child.stop()
        latencies["idle"] += measure(answerer, answers - answers // 2, tokens, "idle again")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    idle = statistics.median(latencies["idle"])
    figures: dict = {
        "model": label,
        "answer_tokens": tokens,
        "answers": answers,
        "cores": cores(),
        "training_threads_limited": training_threads(0),
        "nice_limited": NICE,
    }
    rows_out = []
    for name in ("idle", "unlimited", "limited"):
        p50, p95 = percentiles(latencies[name])
        ratio = statistics.median(latencies[name]) / idle
        rate = rates.get(name)
        figures[name] = {"p50_ms": p50, "p95_ms": p95, "ratio_to_idle": ratio}
        if rate is not None:
            figures[name]["training_steps_per_s"] = rate
        rows_out.append((name, p50, p95, ratio, "" if rate is None else rate))
    print_table(
        f"An answer ({tokens} tokens, {label}) while a CPU training run goes on"
        f" ({cores()} cores; limited = nice {NICE}, {training_threads(0)} training threads)",
        ("training", "p50 ms", "p95 ms", "× idle", "train steps/s"),
        rows_out,
    )
    record("contention", figures)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.contention")
    parser.add_argument("--answers", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=24)
    options = parser.parse_args(argv)
    asyncio.run(run(options.answers, options.tokens))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
