"""Token budgets for prompts, measured with whatever counter the model's tokenizer gives.

A prompt is a list of chat messages. Chat templates wrap every message in role markers, so
a message costs its content plus `MESSAGE_OVERHEAD`, and the reply's opening marker costs
`REPLY_OVERHEAD`. These are a little above what common templates add (ChatML adds about
four tokens per message), so a prompt that fits here fits once templated.

Shortening never trusts that token counts add up: every candidate is measured whole, and
only candidates that were measured to fit are ever returned.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Count = Callable[[str], int]
Message = dict[str, str]

MESSAGE_OVERHEAD = 4
REPLY_OVERHEAD = 4
ELLIPSIS = " …"

_WORD = re.compile(r"\S+")


class PromptTooLong(ValueError):
    """Even the shortest prompt (instructions and the question) leaves no room to answer."""

    def __init__(self, needed: int, room: int):
        self.needed = needed
        self.room = room
        super().__init__(
            f"The question is too long for this model: the prompt needs {needed} tokens "
            f"and there is room for {max(room, 0)} once the answer is reserved."
        )


def message(role: str, content: str) -> Message:
    return {"role": role, "content": content}


def prompt_tokens(messages: list[Message], count: Count) -> int:
    """What the messages cost in the model's context, template markers included."""
    return sum(count(m["content"]) + MESSAGE_OVERHEAD for m in messages) + REPLY_OVERHEAD


def largest(lo: int, hi: int, ok: Callable[[int], bool]) -> int | None:
    """The largest k in lo..hi with ok(k), by bisection (ok is taken to be monotone:
    true up to some k, false after). None when not even ok(lo) holds."""
    if hi < lo or not ok(lo):
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def shorten(text: str, fits: Callable[[str], bool], *, min_words: int = 1) -> str | None:
    """`text` if it fits, else its longest prefix of whole words (at least `min_words`),
    marked with an ellipsis, that fits; None when nothing useful fits. Line breaks inside
    the kept part stay as they were."""
    if fits(text):
        return text
    ends = [m.end() for m in _WORD.finditer(text)]

    def cut(k: int) -> str:
        return text[: ends[k - 1]] + ELLIPSIS

    k = largest(min_words, len(ends) - 1, lambda k: fits(cut(k)))
    return cut(k) if k is not None else None
