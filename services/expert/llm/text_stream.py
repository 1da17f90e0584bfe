"""From generated token ids to the text a person sees, one piece at a time.

Decoding token by token splits characters that span several byte-level tokens (an "é" or an
emoji shows up as "\ufffd"), and a stop sequence can arrive spread over several tokens. So
text is released only once it is whole, and any tail that could still become a stop sequence
is held back until the next token settles it.
"""

from __future__ import annotations

REPLACEMENT = "\ufffd"


class IncrementalDecoder:
    """Decodes a growing list of token ids, returning only the newly completed text.

    Each step decodes a short window (from the last settled offset) rather than the whole
    answer, so the cost per token stays flat and merges across the window edge come out right.
    """

    def __init__(self, tokenizer):
        self._tokenizer = tokenizer
        self._ids: list[int] = []
        self._prefix = 0  # start of the window that is re-decoded
        self._read = 0  # end of the text already returned

    def push(self, token_id: int) -> str:
        self._ids.append(token_id)
        settled = self._decode(self._ids[self._prefix : self._read])
        current = self._decode(self._ids[self._prefix :])
        if len(current) <= len(settled) or current.endswith(REPLACEMENT):
            return ""
        self._prefix, self._read = self._read, len(self._ids)
        return current[len(settled) :]

    def flush(self) -> str:
        """Whatever is left at the end, incomplete characters included."""
        settled = self._decode(self._ids[self._prefix : self._read])
        rest = self._decode(self._ids[self._prefix :])[len(settled) :]
        self._prefix = self._read = len(self._ids)
        return rest

    def _decode(self, ids: list[int]) -> str:
        return self._tokenizer.decode(ids, skip_special_tokens=True) if ids else ""


class StopScanner:
    """Cuts the text at the first stop sequence; holds back what might be the start of one."""

    def __init__(self, stops: tuple[str, ...]):
        self._stops = tuple(s for s in stops if s)
        self._pending = ""
        self.hit = False

    def feed(self, text: str) -> str:
        """The text that is safe to show now; after a stop sequence, nothing more."""
        if self.hit or not self._stops:
            return "" if self.hit else text
        self._pending += text
        found = [i for i in (self._pending.find(stop) for stop in self._stops) if i >= 0]
        if found:
            self.hit = True
            out, self._pending = self._pending[: min(found)], ""
            return out
        keep = self._longest_stop_prefix_at_end()
        out = self._pending[: len(self._pending) - keep]
        self._pending = self._pending[len(out) :]
        return out

    def flush(self) -> str:
        out, self._pending = self._pending, ""
        return "" if self.hit else out

    def _longest_stop_prefix_at_end(self) -> int:
        for size in range(min(len(self._pending), max(map(len, self._stops)) - 1), 0, -1):
            tail = self._pending[-size:]
            if any(stop.startswith(tail) for stop in self._stops):
                return size
        return 0
