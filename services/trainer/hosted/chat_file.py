"""The training file a hosted fine-tune uploads, checked as the provider would check it
before paying for an upload: chat JSONL, one `{"messages": [...]}` example a line."""

from __future__ import annotations

import json

from services.trainer.hosted.provider import HostedError
from services.trainer.jsonl import numbered_examples

ROLES = ("system", "user", "assistant")


def chat_jsonl_ok(jsonl: bytes) -> None:
    """Each line must be a chat example, `{"messages": [{"role", "content"}, ...]}` with
    roles system, user and assistant and at least one assistant turn; blank lines are
    skipped. Raises `HostedError` naming the first bad line."""
    examples = 0
    for n, raw in numbered_examples(jsonl):
        problem = _chat_problem(raw)
        if problem:
            raise HostedError(f"Line {n} of the training file is not a chat example: {problem}.")
        examples += 1
    if not examples:
        raise HostedError("The training file has no examples.")


def _chat_problem(raw: bytes) -> str | None:
    try:
        row = json.loads(raw)
    except ValueError:
        return "it is not valid JSON"
    if not isinstance(row, dict) or not isinstance(row.get("messages"), list):
        return 'it has no "messages" list'
    if not row["messages"]:
        return 'its "messages" list is empty'
    for i, message in enumerate(row["messages"], start=1):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return f"message {i} has no role of system, user or assistant"
        if not isinstance(message.get("content"), str):
            return f"message {i} has no text content"
    if not any(m["role"] == "assistant" for m in row["messages"]):
        return "it has no assistant message to learn from"
    return None
