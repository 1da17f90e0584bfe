"""A dataset version's examples in the formats training tools read, and in the form it is
stored.

- `chat`: OpenAI fine-tuning JSONL, `{"messages": [{"role", "content"}, ...]}`, the system
  prompt included; what TRL's SFTTrainer, Axolotl and Unsloth read as conversations.
- `alpaca`: `{"instruction", "input", "output"}` (FR-FT-05): the question is the
  instruction, the context the answer used is the input (for an example whose answer cites
  passages, each citation as `[n] filename, page p`, one a line; else empty), the final
  answer is the output.
- `preference`: `{"prompt", "chosen", "rejected"}` for DPO-style training, in the plain-text
  form (the prompt is the question): only examples where a person replaced an answer, the
  replacement chosen over the original.

Stored content is JSONL of `TrainingExample`, one a line, fields in schema order and
defaults left out, so the same examples give the same bytes and the same sha256.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import msgspec

from contracts.dataset import TrainingExample

FORMATS = ("chat", "alpaca", "preference")
SPLITS = ("train", "val")

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(TrainingExample)


def to_chat(example: TrainingExample) -> dict:
    return {"messages": [{"role": m.role, "content": m.content} for m in example.messages]}


def to_alpaca(example: TrainingExample) -> dict:
    return {"instruction": question(example), "input": context(example), "output": answer(example)}


def to_preference(example: TrainingExample) -> dict | None:
    if example.rejected is None:
        return None
    return {"prompt": question(example), "chosen": answer(example), "rejected": example.rejected}


def question(example: TrainingExample) -> str:
    return _last(example, "user")


def answer(example: TrainingExample) -> str:
    return _last(example, "assistant")


def context(example: TrainingExample) -> str:
    """The passages the answer cites, one a line: `[1] guide.pdf, page 4`."""
    return "\n".join(f"[{c.n}] {c.filename}, page {c.page}" for c in example.citations)


def jsonl(rows: Iterable[dict]) -> bytes:
    return b"".join(_encoder.encode(row) + b"\n" for row in rows)


def render(examples: Iterable[TrainingExample], fmt: str, split: str) -> bytes:
    """The examples of one split in one export format, as JSONL."""
    if fmt not in _FORMATTERS:
        raise ValueError(f"Unknown format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}: choose one of {', '.join(SPLITS)}.")
    rows = (_FORMATTERS[fmt](e) for e in examples if e.split == split)
    return jsonl(row for row in rows if row is not None)


def to_jsonl(examples: Iterable[TrainingExample]) -> bytes:
    """The stored form of a version's examples."""
    return b"".join(_encoder.encode(example) + b"\n" for example in examples)


def from_jsonl(data: bytes) -> list[TrainingExample]:
    """A version's examples from their stored form, checked against the schema."""
    return _decoder.decode_lines(data)


def _last(example: TrainingExample, role: str) -> str:
    return next((m.content for m in reversed(example.messages) if m.role == role), "")


_FORMATTERS: dict[str, Callable[[TrainingExample], dict | None]] = {
    "chat": to_chat,
    "alpaca": to_alpaca,
    "preference": to_preference,
}
