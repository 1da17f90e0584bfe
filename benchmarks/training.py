"""Training throughput, three ways, LoRA on the same examples, model and hyperparameters:

* the trainer's training child as the service runs it (a subprocess, `python -m
  services.trainer.training JOB.json`, its stdout protocol parsed: our callbacks, a progress
  line per step, checkpoints, determinism, the output folder);
* a plain TRL SFTTrainer call in this process (no callbacks of ours, no checkpoints, default
  logging), the baseline;
* a run through the trainer service: the embedded stack and the expert, dataset and trainer
  services in this process, an expert, a dataset built from the same examples written as
  manual examples, `cmd.trainer.start`, followed until `succeeded`. Two figures: the child's
  own (its `metrics` in the run view: training tokens over `trainer.train()`), and end to
  end: the same tokens over the wall time from the start command to its `AdapterTrained`
  event (what makes it `succeeded`) heard here: planning, the queue, the child's start and
  model load, the final evaluation, checkpoint and adapter uploads, the events. Nothing
  polls the services while a run trains.

The dataset service holds about a tenth of the examples out for validation and writes the
expert's system prompt into each; the child and raw runs train on exactly the dataset's
training side with that prompt (`split.sides`, checked against the built dataset), so all
three see the same batches (checked by the token count). The service run evaluates once, at
its last step (`eval_steps` = `max_steps`; Transformers always evaluates at the end when
there is validation data); the other two have none. Figures are training tokens/s
(non-padding tokens) and peak memory (the process's peak RSS, VmHWM: the raw run's process
also built the tiny model; the service run's is its training child's), and each one's ratio
to the raw run. The service runs come after the others, so that the services' memory does
not count against the raw run (so a busy moment of the machine is not shared out between
the service and the other two, as it is between the alternating child and raw runs).

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
from datetime import datetime
from pathlib import Path

import msgspec

from benchmarks.common import ROOT, begin, embedded_stack, print_table, record
from contracts.base import Accepted, DomainError, ObjectRef
from contracts.dataset import (
    BuildDataset,
    BuildSpec,
    DatasetView,
    GetDataset,
    ManualExample,
    Sources,
)
from contracts.expert import CreateExpert, Profile
from contracts.trainer import (
    BUCKET,
    AdapterTrained,
    EstimateRun,
    GetRun,
    RunCancelled,
    RunFailed,
    RunView,
    StartFinetune,
    TrainConfig,
)
from runtime.codec import decode_event
from runtime.models import BUNDLED_CACHE
from runtime.objects import Objects
from runtime.rpc import ask
from runtime.settings import load_settings
from services.dataset.split import sides
from services.trainer.data import load as load_data
from services.trainer.training.data import prompt_completion, read_examples
from services.trainer.training.job import TrainingJob
from services.trainer.training.outputs import peak_rss_mb
from tests.support.inprocess import start_service
from tests.support.tiny_llm import CORPUS

EXAMPLES = 64  # written; about a tenth go to validation
NAME = "Bench"
DESCRIPTION = "You answer from the notebook, briefly."
SYSTEM = f"You are {NAME}.\n{DESCRIPTION}"  # the expert's system prompt, as its persona says
QUESTIONS = (
    "What happens in spring?",
    "Tell me about the lighthouse.",
    "What do bees do?",
    "Which materials conduct electricity?",
    "What goes into the recipe?",
    "What colour is the sky?",
)


def pairs() -> list[tuple[str, str]]:
    """EXAMPLES questions, answers of two to four sentences of the tiny model's corpus."""
    return [
        (
            f"{QUESTIONS[n % len(QUESTIONS)]} ({n})",
            " ".join(CORPUS[(n + k) % len(CORPUS)] for k in range(2 + n % 3)),
        )
        for n in range(EXAMPLES)
    ]


def chat_rows() -> list[dict]:
    """The conversations the dataset service trains on: the training side of the split it
    makes of the manual examples (a manual example's group is `manual-<n>`, dataset seed 0),
    in their order, each with the expert's system prompt."""
    placed = sides({f"manual-{n}" for n in range(EXAMPLES)}, 0)
    return [
        {
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer},
            ]
        }
        for n, (question, answer) in enumerate(pairs())
        if placed[f"manual-{n}"] == "train"
    ]


def write_chat_files(scratch: Path, rows: list[dict]) -> Path:
    """The training process's input in `scratch`: `train.jsonl` of `rows` and an empty
    `val.jsonl` (no evaluation); the train file's path."""
    train = scratch / "train.jsonl"
    train.write_text("".join(json.dumps(row) + "\n" for row in rows))
    (scratch / "val.jsonl").write_text("")
    return train


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


async def ready_dataset(nc, built: Accepted, timeout: float = 300.0) -> DatasetView:
    deadline = time.perf_counter() + timeout
    query = GetDataset(dataset_id=built.id, after_seq=built.seq)
    while (view := await ask(nc, query)).status == "building":
        if time.perf_counter() > deadline:
            raise RuntimeError(f"dataset {built.id} is still building after {timeout:.0f} s")
        await asyncio.sleep(0.05)
    if view.status != "ready":
        raise RuntimeError(f"the dataset build ended {view.status}")
    return view


class Endings:
    """When each run's ending event (`AdapterTrained`, `RunFailed`, `RunCancelled`) reached
    this process: heard on the trainer's event subjects, so that nothing asks the services
    anything while a run trains (a poll costs CPU the child would have had)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.heard = asyncio.Event()

    async def on_event(self, msg) -> None:
        if isinstance(decode_event(msg.data), AdapterTrained | RunFailed | RunCancelled):
            self.at[msg.subject.rsplit(".", 1)[-1]] = time.perf_counter()
            self.heard.set()

    async def wait(self, run_id: str, timeout: float = 3600.0) -> float:
        async with asyncio.timeout(timeout):
            while run_id not in self.at:
                self.heard.clear()
                await self.heard.wait()
        return self.at[run_id]


async def ended_view(nc, run_id: str) -> RunView:
    """The run's view, once the projection has its ending."""
    while True:
        try:
            view = await ask(nc, GetRun(run_id=run_id))
        except DomainError as err:  # on the log, not projected yet
            if err.code != "not_found":
                raise
        else:
            if view.status in ("succeeded", "failed", "cancelled"):
                return view
        await asyncio.sleep(0.05)


async def trained_tokens(objects: Objects, view: RunView) -> int:
    """The run's training tokens, exactly: its last progress line in the metrics.jsonl it
    uploaded beside the adapter (the view's metrics hold tokens/s and seconds, rounded)."""
    [record] = [f for f in view.files if f.name == "metrics.jsonl"]
    name = f"local/{view.adapter_id}/{record.name}"
    ref = ObjectRef(bucket=BUCKET, name=name, sha256=record.sha256, size=record.size)
    lines = (await objects.get(ref, tenant="local")).decode().splitlines()
    return max(json.loads(line).get("tokens", 0) for line in lines if line.strip())


def seconds_between(earlier: str | None, later: str | None) -> float | None:
    if not earlier or not later:
        return None
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


async def service_runs(
    model: str, model_dir: Path, config: TrainConfig, rows: list[dict], repeats: int
) -> list[dict]:
    """`repeats` runs through the trainer service, one after another, on one dataset of the
    examples written as manual examples; each timed from the start command to `succeeded`."""
    async with embedded_stack() as stack:
        if model == "smollm2":  # the conversion made already: not made again in this home
            (stack.home / "models").mkdir(parents=True, exist_ok=True)
            (stack.home / "models" / BUNDLED_CACHE).symlink_to(model_dir, target_is_directory=True)
        settings = load_settings(
            {
                "NATS_URL": stack.nats_url,
                "DATABASE_URL": stack.database_url,
                "SIMTUNE_HOME": str(stack.home),
                "SIMTUNE_LOG_LEVEL": "warning",
                "SIMTUNE_BASE_MODEL": str(model_dir) if model == "tiny" else "smollm2",
                "FINETUNE_MIN_TRACES": str(EXAMPLES // 2),
                "FINETUNE_SCHEDULE": "off",
            }
        )
        hosts = [await start_service(settings, c) for c in ("expert", "dataset", "trainer")]
        try:
            nc = hosts[0].nc
            profile = Profile(name=NAME, description=DESCRIPTION)
            expert_id = (await ask(nc, CreateExpert(profile=profile))).id
            manual = [ManualExample(question=q, answer=a) for q, a in pairs()]
            spec = BuildSpec(sources=Sources(manual=manual))
            build = BuildDataset(expert_id=expert_id, spec=spec)
            dataset = await ready_dataset(nc, await ask(nc, build))
            content = await load_data(hosts[1].objects, dataset.content, "local")
            if [json.loads(line) for line in content.train.splitlines()] != rows:
                raise RuntimeError(
                    "the dataset's training side is not what the child and raw runs trained on"
                    " (the expert's system prompt, the split or the rules changed)"
                )
            # the trainer loads the base model's tokenizer once, for estimates: not in a run
            estimate = EstimateRun(expert_id=expert_id, dataset_id=dataset.id, config=config)
            await ask(nc, estimate)

            endings = Endings()
            await nc.subscribe("evt.trainer.local.run.>", cb=endings.on_event)
            runs = []
            for _ in range(repeats):
                cmd = StartFinetune(expert_id=expert_id, dataset_id=dataset.id, config=config)
                started = time.perf_counter()
                accepted = await ask(nc, cmd)
                wall = await endings.wait(accepted.run_id) - started
                view = await ended_view(nc, accepted.run_id)
                if view.status != "succeeded" or view.metrics is None:
                    raise RuntimeError(f"the service's run {view.status}: {view.error}")
                m = view.metrics
                tokens = await trained_tokens(hosts[2].objects, view)
                runs.append(
                    {
                        "tokens": tokens,
                        "tokens_per_s": m.tokens_per_s,
                        "end_to_end_tokens_per_s": tokens / wall,
                        "peak_memory_mb": m.peak_memory_mb,
                        "train_s": m.seconds,
                        "wall_s": wall,
                        "queued_to_started_s": seconds_between(view.queued_at, view.started_at),
                        "started_to_finished_s": seconds_between(view.started_at, view.finished_at),
                        "steps": m.steps,
                        "train_examples": dataset.train_examples,
                        "val_examples": dataset.val_examples,
                        "val_loss": m.val_loss,
                    }
                )
        finally:
            for host in reversed(hosts):
                await host.stop()
    return runs


async def run(model: str = "tiny", max_steps: int = 20, repeats: int = 3) -> None:
    begin()
    scratch = Path(tempfile.mkdtemp(prefix="simtune-bench-training-"))
    try:
        model_dir, label = model_folder(model, scratch)
        rows = chat_rows()
        train = write_chat_files(scratch, rows)
        config = TrainConfig(
            lora_rank=16, lora_alpha=32, lora_dropout=0.05, batch_size=4,
            gradient_accumulation_steps=1, max_steps=max_steps, max_seq_length=512,
            learning_rate=2e-4, warmup_ratio=0.03, seed=0, backend="peft",
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
        # one evaluation, at the last step: the fewest a run with validation data has
        once = msgspec.structs.replace(config, eval_steps=min(max_steps, 10_000))
        served = await service_runs(model, model_dir, once, rows, repeats)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ours, raw, service = median_run(children), median_run(raws), median_run(served)
    assert ours["tokens"] == raw["tokens"], "the child and raw runs trained on different batches"
    assert service["tokens"] == raw["tokens"], (
        "the service and raw runs trained on different batches"
    )

    def ratio(run: dict, key: str) -> float:
        return round(run[key] / raw[key], 3)

    print(
        f"\ntraining: {label}, LoRA r=16 on q/k/v/o, {len(rows)} chat examples (of {EXAMPLES}:"
        f" the dataset's training side), batch 4, {max_steps} steps, CPU, median of {repeats}"
        f" runs each ({raw['tokens']} training tokens a run)"
    )
    print_table(
        "",
        ("run", "tokens/s", "peak memory MB", "seconds", "tokens/s ÷ raw", "memory ÷ raw"),
        [
            ("training child (subprocess, protocol)", ours["tokens_per_s"],
             ours["peak_memory_mb"], ours["train_s"], ratio(ours, "tokens_per_s"),
             ratio(ours, "peak_memory_mb")),
            ("raw: SFTTrainer in-process", raw["tokens_per_s"], raw["peak_memory_mb"],
             raw["train_s"], 1.0, 1.0),
            ("trainer service: the child's own figure", service["tokens_per_s"],
             service["peak_memory_mb"], service["train_s"], ratio(service, "tokens_per_s"),
             ratio(service, "peak_memory_mb")),
            ("trainer service: start command to succeeded", service["end_to_end_tokens_per_s"],
             "", service["wall_s"],
             round(service["end_to_end_tokens_per_s"] / raw["tokens_per_s"], 3), ""),
        ],
    )  # fmt: skip
    print(f"  (the child's whole run, start to done: {ours['wall_s']:.1f} s)")
    print(
        f"  (the service's run: queued to started {service['queued_to_started_s']:.2f} s,"
        f" started to succeeded {service['started_to_finished_s']:.2f} s, of"
        f" {service['wall_s']:.2f} s; {service['val_examples']} validation examples"
        " evaluated once, at the last step)"
    )
    record(
        "training",
        {
            "model": label,
            "examples": EXAMPLES,
            "train_examples": len(rows),
            "max_steps": max_steps,
            "repeats": repeats,
            "child": ours,
            "raw": raw,
            "service": service,
            "ratio": ours["tokens_per_s"] / raw["tokens_per_s"],
            "service_ratio": service["tokens_per_s"] / raw["tokens_per_s"],
            "service_end_to_end_ratio": service["end_to_end_tokens_per_s"] / raw["tokens_per_s"],
            "service_memory_ratio": service["peak_memory_mb"] / raw["peak_memory_mb"],
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
