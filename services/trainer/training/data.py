"""The training and validation examples: chat JSONL read, checked, and turned into the
prompt/completion pairs TRL trains on.

Each line is `{"messages": [{"role": "system"|"user"|"assistant", "content": str}, ...]}`
ending with the assistant's answer. The loss counts the final assistant reply only (its
tokens and the end-of-turn mark the chat template puts after it): the conversation before it
is the prompt, given as context, not learnt. TRL does that for conversational
prompt/completion data (`completion_only_loss`), whatever the model's chat template.
"""

from __future__ import annotations

import json
from pathlib import Path

from services.trainer.jsonl import numbered_examples
from services.trainer.training.job import JobFailed

ROLES = frozenset({"system", "user", "assistant"})


def read_examples(path: str | Path, label: str) -> list[list[dict]]:
    """Every example's messages, in file order; a missing, unreadable or malformed file is a
    `JobFailed` naming the line. `label` is "training" or "validation"."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise JobFailed(f"The {label} data could not be read.") from exc
    examples = []
    for number, raw in numbered_examples(text):
        problem = _problem(raw)
        if problem:
            raise JobFailed(f"The {label} data is damaged: line {number} {problem}.")
        examples.append(json.loads(raw)["messages"])
    return examples


def _problem(raw: str) -> str | None:
    """What is wrong with one line, in words; None when it is a usable example."""
    try:
        row = json.loads(raw)
    except ValueError:
        return "is not valid JSON"
    messages = row.get("messages") if isinstance(row, dict) else None
    if not isinstance(messages, list) or not messages:
        return "has no list of messages"
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return "has a message without a system, user or assistant role"
        if not isinstance(message.get("content"), str):
            return "has a message without text"
    if messages[-1]["role"] != "assistant":
        return "does not end with the assistant's answer"
    if len(messages) < 2:
        return "has an answer but no question"
    return None


def prompt_completion(examples: list[list[dict]]) -> list[dict]:
    """TRL's conversational prompt/completion rows: everything before the last message is
    the prompt, the last (assistant) message the completion."""
    return [
        {
            "prompt": [{"role": m["role"], "content": m["content"]} for m in messages[:-1]],
            "completion": [{"role": "assistant", "content": messages[-1]["content"]}],
        }
        for messages in examples
    ]
