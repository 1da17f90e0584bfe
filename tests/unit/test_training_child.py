"""The trainer's training child, run as the service runs it: a real subprocess
(`python -m services.trainer.training JOB.json`) training a LoRA on a tiny random Llama,
read through its stdout protocol. Plus the pure parts: the plan and the Axolotl config."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from contracts.trainer import RunMetrics, TrainConfig
from services.trainer.training import plan
from services.trainer.training.axolotl_run import axolotl_config, to_yaml
from services.trainer.training.job import TrainingJob
from services.trainer.training.outputs import OUTPUT_FILES
from tests.support.tiny_llm import build_tiny_llm
from tests.support.training import TINY

ROOT = Path(__file__).resolve().parents[2]
CHILD = [sys.executable, "-m", "services.trainer.training"]
FACTS = [
    ("Where do the sheep go in spring?", "The farmers move their sheep to the hills."),
    ("What does the keeper write?", "The lighthouse keeper writes the weather."),
    ("What do bees carry?", "Bees carry pollen from flower to flower."),
    ("What conducts electricity?", "Copper wire conducts electricity."),
    ("What does the recipe ask for?", "Flour, butter, two eggs and a pinch of salt."),
    ("What colour is the sky?", "The sky is blue on a clear day."),
]
# The few-step run the integration tests train (TINY), at rank 8 and six steps (counted below).
CONFIG = msgspec.to_builtins(
    msgspec.structs.replace(TINY, lora_rank=8, lora_alpha=16, max_steps=6, backend="auto")
)


def chat(question: str, answer: str) -> dict:
    return {
        "messages": [
            {"role": "system", "content": "Answer in one sentence."},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    }


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict:
    """The tiny model and ~12 chat examples (10 to train on, 2 to validate)."""
    root = tmp_path_factory.mktemp("training-child")
    rows = [chat(f"{q} ({n})", a) for n in range(2) for q, a in FACTS]
    return {
        "root": root,
        "model": build_tiny_llm(root / "model"),
        "train": write_jsonl(root / "train.jsonl", rows[:10]),
        "val": write_jsonl(root / "val.jsonl", rows[10:]),
    }


def job_file(tiny: dict, folder: Path, **overrides) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = {**CONFIG, **overrides.pop("config", {})}
    job = {
        "model_path": str(tiny["model"]),
        "train_path": str(tiny["train"]),
        "val_path": str(tiny["val"]),
        "output_dir": str(folder / "output"),
        "checkpoint_dir": str(folder / "checkpoints"),
        "config": config,
        "backend": "peft",
        "threads": 1,
        **overrides,
    }
    path = folder / "job.json"
    path.write_text(json.dumps(job))
    return path


def start(job: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*CHILD, str(job)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, list[dict], str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, [json.loads(line) for line in out.splitlines()], err


def run(job: Path) -> tuple[int, list[dict], str]:
    return finish(start(job))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def twins(tiny) -> list[tuple[Path, tuple[int, list[dict], str]]]:
    """The same job twice, side by side (one thread each), into different folders."""
    jobs = [job_file(tiny, tiny["root"] / f"twin-{n}") for n in range(2)]
    procs = [start(job) for job in jobs]
    return [(job.parent, finish(proc)) for job, proc in zip(jobs, procs, strict=True)]


def test_a_run_reports_in_order_and_writes_a_loadable_adapter(tiny, twins):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    folder, (code, events, err) = twins[0]
    assert code == 0, err[-2000:]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "done", kinds
    assert set(kinds[1:-1]) == {"progress", "checkpoint"}
    started = events[0]
    assert started == {
        "event": "started",
        "total_steps": 6,
        "resumed_from_step": 0,
        "device": "cpu",
        "train_examples": 10,
        "val_examples": 2,
    }
    steps = [e for e in events if e["event"] == "progress" and e["loss"] is not None]
    assert [e["step"] for e in steps] == [1, 2, 3, 4, 5, 6]
    tokens = [e["tokens"] for e in steps]
    assert tokens == sorted(tokens) and tokens[0] > 0
    evals = [e for e in events if e["event"] == "progress" and e["eval_loss"] is not None]
    assert [e["step"] for e in evals] == [2, 4, 6]
    checkpoints = [e for e in events if e["event"] == "checkpoint"]
    assert [c["step"] for c in checkpoints] == [2, 4, 6]
    assert all(Path(c["path"]).is_absolute() for c in checkpoints)

    metrics = RunMetrics(**events[-1]["metrics"])
    assert metrics.steps == 6 and not metrics.stopped_early
    assert metrics.best_val_loss == min(e["eval_loss"] for e in evals)
    assert metrics.tokens_per_s > 0 and metrics.peak_memory_mb > 0

    output = folder / "output"
    assert sorted(p.name for p in output.iterdir()) == sorted(OUTPUT_FILES)
    assert json.loads((output / "metrics.json").read_text()) == events[-1]["metrics"]
    logged = [json.loads(line) for line in (output / "metrics.jsonl").read_text().splitlines()]
    assert logged == [{k: e[k] for k in sorted(e)} for e in events if e["event"] == "progress"]
    args = json.loads((output / "training_args.json").read_text())
    assert args["backend"] == "peft" and args["base_model"] == "model"
    assert args["config"]["lora_rank"] == 8 and args["seed"] == 0
    assert "torch" in args["versions"] and "transformers" in args["versions"]
    assert not [p for p in output.parent.iterdir() if p.name.startswith(".")]  # no leftovers

    base = AutoModelForCausalLM.from_pretrained(tiny["model"], dtype=torch.float32).eval()
    ids = torch.tensor([[1, 5, 9, 20, 33, 40]])
    with torch.no_grad():
        before = base(input_ids=ids).logits.clone()
        tuned = PeftModel.from_pretrained(base, output).eval()
        after = tuned(input_ids=ids).logits
    assert not torch.allclose(before, after)


def test_the_same_job_gives_the_same_adapter_bytes(twins):
    (first, (code_a, _, err_a)), (second, (code_b, _, err_b)) = twins
    assert code_a == 0 and code_b == 0, (err_a[-1000:], err_b[-1000:])
    name = "adapter_model.safetensors"
    assert sha256(first / "output" / name) == sha256(second / "output" / name)


def test_a_killed_run_resumes_from_its_last_checkpoint(tiny, tmp_path):
    job = job_file(
        tiny,
        tmp_path,
        val_path=str(write_jsonl(tmp_path / "empty.jsonl", [])),
        checkpoint_steps=2,
        step_delay_s=0.3,
    )
    proc = start(job)
    seen = []
    for line in proc.stdout:
        seen.append(json.loads(line))
        if seen[-1]["event"] == "checkpoint":
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    saved = seen[-1]["step"]
    assert saved >= 2 and not (tmp_path / "output").exists()

    code, events, err = run(job)
    assert code == 0, err[-2000:]
    assert events[0]["event"] == "started"
    assert events[0]["resumed_from_step"] >= saved > 0
    assert events[0]["val_examples"] == 0
    assert events[-1]["event"] == "done" and events[-1]["metrics"]["steps"] == 6
    assert events[-1]["metrics"]["val_loss"] is None
    assert (tmp_path / "output" / "adapter_model.safetensors").is_file()
    logged = [json.loads(line) for line in (tmp_path / "output" / "metrics.jsonl").open()]
    assert [p["step"] for p in logged] == [1, 2, 3, 4, 5, 6]  # the first attempt's too


def test_early_stopping_fires_when_validation_loss_rises(tiny, tmp_path):
    """Training on one answer while validating on another: validation loss falls at first,
    then rises as the model learns the training answer by heart."""
    train = [chat(f"Say it {n}.", "The river floods in spring.") for n in range(8)]
    val = [chat("Say it.", "Copper wire conducts electricity, glass and rubber do not.")] * 2
    job = job_file(
        tiny,
        tmp_path,
        train_path=str(write_jsonl(tmp_path / "train.jsonl", train)),
        val_path=str(write_jsonl(tmp_path / "val.jsonl", val)),
        config=dict(lora_rank=4, lora_alpha=256, lora_dropout=0.0, batch_size=4, max_steps=40,
                    eval_steps=2, warmup_ratio=0.0, early_stopping_patience=1),
    )  # fmt: skip
    code, events, err = run(job)
    assert code == 0, err[-2000:]
    metrics = events[-1]["metrics"]
    assert metrics["stopped_early"] is True
    assert metrics["steps"] < 40
    assert metrics["best_val_loss"] < metrics["val_loss"]


def paper_job(config: TrainConfig, backend: str = "peft") -> TrainingJob:
    """A job whose folders need not exist (the model at /models/smol, the rest under /work),
    for the pure parts that only read it: the plan and the Axolotl config."""
    return TrainingJob(
        model_path="/models/smol", train_path="/work/train.jsonl", val_path="/work/val.jsonl",
        output_dir="/work/output", checkpoint_dir="/work/checkpoints", config=config,
        backend=backend,
    )  # fmt: skip


def test_early_stopping_is_wired_with_the_configured_patience():
    def job(**config) -> TrainingJob:
        return paper_job(TrainConfig(**config))

    (callback,) = plan.early_stopping(job(early_stopping_patience=5), has_val=True)
    assert callback.early_stopping_patience == 5
    assert plan.early_stopping(job(), has_val=False) == []
    args = plan.sft_arguments(
        job(eval_steps=3), train_examples=40, has_val=True, device="cpu", max_length=512
    )
    assert args["load_best_model_at_end"] and args["metric_for_best_model"] == "eval_loss"
    assert args["eval_steps"] == 3 and args["save_steps"] == 3 and args["save_total_limit"] == 1
    # no eval_steps: four evaluations an epoch (40 examples / (4 x 4) = 3 steps an epoch)
    assert plan.steps_per_epoch(40, job()) == 3 and plan.eval_every(40, job()) == 1
    assert plan.eval_every(400, job()) == 25 // 4


@pytest.mark.parametrize(
    "bad, says",
    [
        ("{not json", "line 2 is not valid JSON"),
        ('{"text": "no messages here"}', "line 2 has no list of messages"),
    ],
)
def test_malformed_data_is_a_plain_error_and_writes_nothing(tiny, tmp_path, bad, says):
    good = json.dumps(chat("What colour is the sky?", "Blue."))
    train = tmp_path / "train.jsonl"
    train.write_text(f"{good}\n{bad}\n{good}\n")
    code, events, _ = run(job_file(tiny, tmp_path, train_path=str(train)))
    assert code == 1
    assert events == [{"event": "error", "reason": f"The training data is damaged: {says}."}]
    assert not (tmp_path / "output").exists()


def test_unsloth_without_a_gpu_says_what_it_needs(tiny, tmp_path):
    code, events, _ = run(job_file(tiny, tmp_path, backend="unsloth"))
    assert code == 1
    assert len(events) == 1 and events[0]["event"] == "error"
    assert "CUDA GPU" in events[0]["reason"] and "simtune[gpu]" in events[0]["reason"]
    assert not (tmp_path / "output").exists()


def test_axolotl_not_installed_is_a_plain_error(tiny, tmp_path):
    if (Path(sys.executable).parent / "axolotl").exists():
        pytest.skip("axolotl is installed here")
    code, events, _ = run(job_file(tiny, tmp_path, backend="axolotl"))
    assert code == 1
    assert events == [{"event": "error", "reason": events[0]["reason"]}]
    assert "axolotl" in events[0]["reason"]


def test_the_axolotl_config_carries_the_job():
    config = TrainConfig(lora_rank=8, lora_alpha=16, lora_dropout=0.1, learning_rate=1e-4,
                         batch_size=2, gradient_accumulation_steps=8, epochs=2,
                         max_seq_length=1024, warmup_ratio=0.1, weight_decay=0.02,
                         early_stopping_patience=4, seed=7)  # fmt: skip
    job = paper_job(config, backend="axolotl")
    values = axolotl_config(job, train_examples=100, has_val=True)
    assert values["base_model"] == "/models/smol"
    assert values["datasets"] == [
        {"path": "/work/train.jsonl", "type": "chat_template", "field_messages": "messages",
         "ds_type": "json"}
    ]  # fmt: skip
    assert values["test_datasets"][0]["path"] == "/work/val.jsonl"
    expected = {
        "adapter": "lora", "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.1,
        "lora_target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
        "sequence_len": 1024, "micro_batch_size": 2, "gradient_accumulation_steps": 8,
        "num_epochs": 2, "learning_rate": 1e-4, "warmup_ratio": 0.1, "weight_decay": 0.02,
        "output_dir": "/work/checkpoints", "seed": 7, "early_stopping_patience": 4,
        "save_total_limit": 1,
    }  # fmt: skip
    assert {key: values[key] for key in expected} == expected
    without_val = axolotl_config(job, train_examples=100, has_val=False)
    assert "test_datasets" not in without_val and "early_stopping_patience" not in without_val

    text = to_yaml(values)
    assert "lora_r: 8\n" in text and 'base_model: "/models/smol"\n' in text
    yaml = pytest.importorskip("yaml")
    assert yaml.safe_load(text) == values
