"""A conversation's earlier turns, where an `Ask` carries them: what the passages are looked
up with, and which turns go in the prompt (the most recent that fit)."""

from __future__ import annotations

from contracts.answers import Ask

SEARCH_CHARS = 2000  # what the knowledge service's search accepts


def search_text(cmd: Ask) -> str:
    """What to look the passages up with: the question (and, in a conversation, the turns
    before it, most recent first, while there is room)."""
    text = " ".join(cmd.question.split())
    for turn in reversed(cmd.history):
        if len(text) >= SEARCH_CHARS:
            break
        if turn.role == "user":
            text = f"{text} {' '.join(turn.content.split())}"
    return text[:SEARCH_CHARS].strip() or "?"


def with_history(
    messages: list[dict[str, str]], cmd: Ask, room: int, count
) -> list[dict[str, str]]:
    """Earlier turns of a conversation go between the system prompt and the new question,
    the most recent ones that fit in `room` tokens."""
    kept: list[dict[str, str]] = []
    for turn in reversed(cmd.history):
        cost = count(turn.content) + 4
        if cost > room:
            break
        room -= cost
        kept.insert(0, {"role": turn.role, "content": turn.content})
    if not kept:
        return messages
    head = [m for m in messages[:1] if m["role"] == "system"]
    return head + kept + messages[len(head) :]
