"""The run's final files, written into a sibling folder and renamed into place, so a child
killed on the way leaves either no output folder or a whole one; and the figures in them."""

from __future__ import annotations

import json
import math
import resource
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec

from contracts.trainer import ADAPTER_FILES, TrainConfig

OUTPUT_FILES = (*ADAPTER_FILES, "training_args.json", "metrics.json", "metrics.jsonl")
LIBRARIES = ("torch", "transformers", "peft", "trl", "accelerate", "datasets")


def write_outputs(
    output_dir: str | Path,
    save_adapter: Callable[[Path], None],
    *,
    training_args: dict,
    metrics: dict,
    progress: list[dict],
) -> Path:
    """`save_adapter(folder)` writes the adapter files; the records go beside them. Anything
    else the saver writes (PEFT's README.md) is left out."""
    target = Path(output_dir).resolve()
    partial = target.parent / f".{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    save_adapter(partial)
    _dump(partial / "training_args.json", training_args)
    _dump(partial / "metrics.json", metrics)
    lines = (json.dumps({"event": "progress", **p}, sort_keys=True) + "\n" for p in progress)
    (partial / "metrics.jsonl").write_text("".join(lines))
    for extra in set(p.name for p in partial.iterdir()) - set(OUTPUT_FILES):
        _remove(partial / extra)
    missing = [name for name in OUTPUT_FILES if not (partial / name).is_file()]
    if missing:
        raise RuntimeError(f"the adapter was saved without {', '.join(missing)}")
    if target.exists():
        old = target.parent / f".{target.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        partial.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        partial.rename(target)
    return target


def record_of_args(
    config: TrainConfig, *, backend: str, model_path: str, extra: dict | None = None
) -> dict:
    """training_args.json: the config, backend, base model's folder name, seed and library
    versions (no timestamps, no absolute paths: the same run gives the same bytes)."""
    return {
        "backend": backend,
        "base_model": Path(model_path).name,
        "config": msgspec.to_builtins(config),
        "seed": config.seed,
        "versions": versions(),
        **(extra or {}),
    }


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0]}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def perplexity(loss: float | None) -> float | None:
    if loss is None or not math.isfinite(loss) or loss > 700:
        return None
    return math.exp(loss)


def peak_memory_mb(device: str) -> float:
    """GPU: the most memory torch held at once. CPU: this process's peak resident memory,
    from /proc (VmHWM) where there is one: getrusage's ru_maxrss keeps, across the exec
    that started this child, the resident size of the service that forked it."""
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return peak_rss_mb()


def peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dump(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, sort_keys=True, indent=2) + "\n")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
