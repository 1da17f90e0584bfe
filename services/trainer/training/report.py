"""The stdout protocol: one JSON object a line, flushed at once, and nothing else on stdout.

`claim_stdout()` keeps a private copy of the process's stdout and points file descriptor 1
(and `sys.stdout`) at stderr, so a library that prints (a `print`, a C extension writing to
fd 1, a progress bar) cannot break the protocol; its text lands in stderr with the logs,
whose last lines the service keeps for an error message.

Events, in order: `started`, then `progress` (one per optimizer step, one after each
evaluation) and `checkpoint` lines, then `done` — or an `error` line at any point.
"""

from __future__ import annotations

import math
import os
import sys
from typing import IO

import msgspec

_encoder = msgspec.json.Encoder()


def claim_stdout() -> IO[bytes]:
    """The protocol's stream; from now on fd 1 and sys.stdout go to stderr."""
    sys.stdout.flush()
    private = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return private


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Reporter:
    """Writes the protocol's lines; remembers the progress lines for metrics.jsonl."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def emit(self, event: str, **fields: object) -> None:
        line = {"event": event, **{key: _finite(value) for key, value in fields.items()}}
        self._stream.write(_encoder.encode(line) + b"\n")
        self._stream.flush()

    def error(self, reason: str) -> None:
        self.emit("error", reason=reason)


def progress_line(entry: dict, total_steps: int) -> dict | None:
    """A `progress` line's fields from one of the Trainer's log entries (a step's training
    loss, or an evaluation); None for the other entries (the run's closing summary)."""
    if "loss" not in entry and "eval_loss" not in entry:
        return None
    return {
        "step": int(entry.get("step", 0)),
        "total_steps": int(total_steps),
        "loss": _finite(entry.get("loss")),
        "eval_loss": _finite(entry.get("eval_loss")),
        "learning_rate": _finite(entry.get("learning_rate")),
        "epoch": _finite(entry.get("epoch")),
        "tokens": int(entry.get("num_input_tokens_seen", 0)),
    }
