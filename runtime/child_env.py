"""The environment a worker child starts with (a document reader, a training process): what
Python, its libraries and the accelerator need, never the service's secrets or addresses.

A child reads untrusted files or runs third-party training code; it is handed its work
through its arguments and files, so it needs no key, no database or NATS address, and no
provider credential that happens to be in the service's environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

PASSED = frozenset(
    {"PATH", "HOME", "USER", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "SHELL",
     "PYTHONPATH", "PYTHONHASHSEED", "PYTHONUNBUFFERED", "VIRTUAL_ENV", "LD_LIBRARY_PATH"}
)  # fmt: skip
PASSED_PREFIXES = (
    "LC_", "HF_", "TRANSFORMERS_", "TOKENIZERS_", "TORCH", "PYTORCH_", "CUDA", "NVIDIA_",
    "OMP_", "MKL_", "OPENBLAS_", "BNB_", "UNSLOTH_", "XDG_",
)  # fmt: skip
SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL")


def child_env(parent: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """`parent`'s variables that a worker child needs (os.environ by default), plus `extra`."""
    parent = os.environ if parent is None else parent
    kept = {
        name: value
        for name, value in parent.items()
        if (name in PASSED or name.startswith(PASSED_PREFIXES))
        and not any(word in name.upper() for word in SECRET_WORDS)
    }
    return {**kept, **extra}
