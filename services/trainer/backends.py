"""Which backend trains a run: `auto` becomes Unsloth's 4-bit QLoRA where a CUDA GPU and the
optional GPU packages are present, PEFT everywhere else; a named backend is checked here so a
run that cannot start is refused when it is asked for, not minutes later."""

from __future__ import annotations

import importlib.util
import shutil
from functools import lru_cache

from contracts.base import DomainError, ErrorCode


@lru_cache(maxsize=1)
def cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:
        return False


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def resolve(requested: str, *, hosted_configured: bool) -> str:
    if requested == "auto":
        return "unsloth" if cuda_available() and installed("unsloth") else "peft"
    if requested == "unsloth" and not (cuda_available() and installed("unsloth")):
        raise DomainError(
            ErrorCode.INVALID,
            "backend unsloth needs a CUDA GPU and the GPU extra (pip install 'simtune[gpu]');"
            " choose peft or auto on this machine",
        )
    if requested == "axolotl" and not (installed("axolotl") or shutil.which("axolotl")):
        raise DomainError(
            ErrorCode.INVALID, "backend axolotl is not installed here; choose peft or auto"
        )
    if requested == "openai" and not hosted_configured:
        raise DomainError(
            ErrorCode.INVALID,
            "backend openai needs a hosted provider: set its base URL, model and API key"
            " in the fine-tuning settings first",
        )
    return requested
