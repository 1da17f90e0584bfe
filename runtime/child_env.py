"""The environment a worker child starts with (a document reader, a training process): what
Python, its libraries and the accelerator need, never the service's secrets or addresses.
And how a training child shares the machine: its threads capped (every core but one by
default), its priority lowered (`SIMTUNE_TRAIN_NICE`), its death tied to its parent's.

A child reads untrusted files or runs third-party training code; it is handed its work
through its arguments and files, so it needs no key, no database or NATS address, and no
provider credential that happens to be in the service's environment.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from collections.abc import Mapping

from runtime.cpus import cores

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


# ---- a worker child that shares the machine with answering ---------------------------------

PR_SET_PDEATHSIG = 1
THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS", "TORCH_NUM_THREADS", "RAYON_NUM_THREADS",
)  # fmt: skip


def training_threads(setting: int = 0) -> int:
    """The threads a training child may use: `setting` (SIMTUNE_TRAIN_THREADS) when set, else
    every core but one, so a core is always left for answering; never more than the cores."""
    if setting > 0:
        return min(setting, cores())
    return max(1, cores() - 1)


def thread_caps(threads: int) -> dict[str, str]:
    """The environment that holds the numeric libraries (OpenMP, MKL, OpenBLAS, torch) to
    `threads` threads each."""
    return {name: str(threads) for name in THREAD_VARIABLES}


def _prctl():
    """libc's prctl, looked up in the parent (a forked child of a threaded process must not
    load libraries or import modules: another thread may have held the lock it needs)."""
    global _PRCTL
    if _PRCTL is None:
        with contextlib.suppress(OSError, AttributeError):
            _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
    return _PRCTL


_PRCTL = None


def die_with_parent() -> None:
    """In a child before exec: the kernel kills it (SIGKILL) when its parent dies, so a
    grandchild (Axolotl under the training child) never outlives the run. Call
    `parent_ready()` in the parent first where the child is forked from a threaded one."""
    prctl = _PRCTL
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def parent_ready() -> None:
    """Look up what `die_with_parent` calls, before any fork."""
    _prctl()


def lowered(nice: int):
    """A `preexec_fn` for a worker child: it dies with its parent and runs `nice` steps
    below it, so answering keeps the CPU when both want it."""
    parent_ready()

    def prepare() -> None:
        die_with_parent()
        if nice > 0:
            os.nice(nice)

    return prepare


parent_ready()
