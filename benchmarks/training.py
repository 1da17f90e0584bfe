"""Training throughput: the trainer's training child run as the service runs it (a
subprocess, `python -m services.trainer.training JOB.json`, its stdout protocol parsed: our
callbacks, a progress line per step, checkpoints, determinism, the output folder) beside a
plain TRL SFTTrainer call in this process on the same data, model and hyperparameters (no
callbacks of ours, no checkpoints, default logging). Both train LoRA on the same
prompt/completion examples; figures are training tokens/s (non-padding tokens over the wall
time of `trainer.train()`) and peak memory (the process's peak RSS, VmHWM; the raw run's
process also built the tiny model), and the ratio child/raw.

`python -m benchmarks.training [--model tiny|smollm2] [--max-steps N] [--repeats N]`. The
tiny model is a random two-layer Llama built on the spot (tests/support/tiny_llm.py); `smollm2` is the
bundled SmolLM2-135M-Instruct (converted to safetensors the first time, in a subprocess so
that its memory does not count against the raw run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, begin, print_table, record
from contracts.trainer import TrainConfig
from services.trainer.training.data import prompt_completion, read_examples
from services.trainer.training.job import TrainingJob
from services.trainer.training.outputs import peak_rss_mb
from tests.support.tiny_llm import CORPUS

EXAMPLES = 64
QUESTIONS = (
    "What happens in spring?",
    "Tell me about the lighthouse.",
    "What do bees do?",
    "Which materials conduct electricity?",
    "What goes into the recipe?",
    "What colour is the sky?",
)


def chat_rows() -> list[dict]:
    """EXAMPLES conversations, answers of two to four sentences of the tiny model's corpus."""
    rows = []
    for n in range(EXAMPLES):
        answer = " ".join(CORPUS[(n + k) % len(CORPUS)] for k in range(2 + n % 3))
        question = f"{QUESTIONS[n % len(QUESTIONS)]} ({n})"
        messages = [
            {"role": "system", "content": "You answer from the notebook, briefly."},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
        rows.append({"messages": messages})
    return rows


def model_folder(name: str, scratch: Path) -> tuple[Path, str]:
    if name == "tiny":
        from tests.support.tiny_llm import build_tiny_llm

        return build_tiny_llm(scratch / "tiny-model"), "tiny random Llama (2 layers, 32 wide)"
    script = (
        "from runtime.models import model_source; from runtime.settings import load_settings;"
        " print(model_source('smollm2', load_settings({}).home))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return Path(found.stdout.strip().splitlines()[-1]), "SmolLM2-135M-Instruct"


def child_run(job: TrainingJob, scratch: Path) -> dict:
    """The service's way: the job file, the child, its protocol lines."""
    import msgspec

    path = scratch / "job.json"
    path.write_bytes(msgspec.json.encode(job))
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "services.trainer.training", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    if proc.returncode != 0 or not events or events[-1]["event"] != "done":
        raise RuntimeError(f"the training child failed: {proc.stderr[-2000:]}")
    metrics = events[-1]["metrics"]
    progress = [e for e in events if e["event"] == "progress"]
    return {
        "tokens": progress[-1]["tokens"],
        "tokens_per_s": metrics["tokens_per_s"],
        "peak_memory_mb": metrics["peak_memory_mb"],
        "train_s": metrics["seconds"],
        "wall_s": wall,
        "steps": metrics["steps"],
        "lines": len(events),
    }


def raw_run(job: TrainingJob, model_dir: Path) -> dict:
    """A plain SFTTrainer call, in this process, same hyperparameters and examples."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback
    from trl import SFTConfig, SFTTrainer

    config = job.config
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    examples = prompt_completion(read_examples(job.train_path, "training"))
    trainer = SFTTrainer(
        model=model,
        args=SFTConfig(
            output_dir=job.checkpoint_dir,
            per_device_train_batch_size=config.batch_size,
            gradient_accumulation_steps=config.gradient_accumulation_steps,
            max_steps=config.max_steps,
            learning_rate=config.learning_rate,
            weight_decay=config.weight_decay,
            warmup_steps=config.warmup_ratio,
            seed=config.seed,
            data_seed=config.seed,  # the child's batches, so the same padding
            max_length=config.max_seq_length,
            use_cpu=True,
            bf16=False,
            gradient_checkpointing=False,
            save_strategy="no",
            report_to="none",
            disable_tqdm=True,
            include_num_input_tokens_seen="non_padding",
        ),
        train_dataset=Dataset.from_list(examples),
        processing_class=tokenizer,
        peft_config=LoraConfig(
            r=config.lora_rank,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
            task_type="CAUSAL_LM",
        ),
    )
    trainer.remove_callback(PrinterCallback)  # it prints every log line
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    return {
        "tokens": trainer.state.num_input_tokens_seen,
        "tokens_per_s": trainer.state.num_input_tokens_seen / seconds,
        "peak_memory_mb": peak_rss_mb(),
        "train_s": seconds,
        "steps": trainer.state.global_step,
    }


def median_run(runs: list[dict]) -> dict:
    """The run with the median tokens/s (the lower middle one of an even count)."""
    return sorted(runs, key=lambda r: r["tokens_per_s"])[(len(runs) - 1) // 2]


async def run(model: str = "tiny", max_steps: int = 20, repeats: int = 3) -> None:
    begin()
    scratch = Path(tempfile.mkdtemp(prefix="simtune-bench-training-"))
    try:
        model_dir, label = model_folder(model, scratch)
        train = scratch / "train.jsonl"
        train.write_text("".join(json.dumps(row) + "\n" for row in chat_rows()))
        (scratch / "val.jsonl").write_text("")
        config = TrainConfig(
            lora_rank=16, lora_alpha=32, lora_dropout=0.05, batch_size=4,
            gradient_accumulation_steps=1, max_steps=max_steps, max_seq_length=512,
            learning_rate=2e-4, warmup_ratio=0.03, seed=0,
        )  # fmt: skip

        def job(name: str) -> TrainingJob:
            return TrainingJob(
                model_path=str(model_dir), train_path=str(train),
                val_path=str(scratch / "val.jsonl"), output_dir=str(scratch / name / "output"),
                checkpoint_dir=str(scratch / name / "checkpoints"), config=config,
                backend="peft", resume=False,
            )  # fmt: skip

        children, raws = [], []
        for n in range(repeats):  # alternating, so a busy moment hits both
            # on this thread: torch runs slower in a process where a second thread used it
            children.append(child_run(job(f"child-{n}"), scratch))
            raws.append(raw_run(job(f"raw-{n}"), model_dir))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ours, raw = median_run(children), median_run(raws)
    assert ours["tokens"] == raw["tokens"], "the two runs trained on different batches"

    ratio = ours["tokens_per_s"] / raw["tokens_per_s"]
    print(
        f"\ntraining: {label}, LoRA r=16 on q/k/v/o, {EXAMPLES} chat examples, batch 4,"
        f" {max_steps} steps, CPU, median of {repeats} alternating runs"
    )
    print_table(
        "",
        ("run", "tokens/s", "peak memory MB", "train s"),
        [
            ("training child (subprocess, protocol)", ours["tokens_per_s"],
             ours["peak_memory_mb"], ours["train_s"]),
            ("raw: SFTTrainer in-process", raw["tokens_per_s"], raw["peak_memory_mb"],
             raw["train_s"]),
            ("ratio child/raw (tokens/s)", round(ratio, 3), "", ""),
        ],
    )  # fmt: skip
    print(f"  (the child's whole run, start to done: {ours['wall_s']:.1f} s)")
    record(
        "training",
        {
            "model": label,
            "examples": EXAMPLES,
            "max_steps": max_steps,
            "repeats": repeats,
            "child": ours,
            "raw": raw,
            "ratio": ratio,
        },
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.training")
    parser.add_argument("--model", choices=("tiny", "smollm2"), default="tiny")
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args(argv)
    asyncio.run(run(options.model, options.max_steps, options.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
